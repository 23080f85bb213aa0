import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '@agentledger/agents/testing';
import { eventually } from '@agentledger/testing';
import { startStandalone, type StandaloneProcess } from '../support/standalone-process.ts';
const SECRET = 'postgres://app:hunter2-embedded@db.internal/prod';

// The exfiltration of issue 10 against `npm start`: a tenant's spec names its own URL and one of
// the process's secret variables as the key. The spec is refused and the URL never hears from us,
// while an operator-configured endpoint (the fake OpenAI server) is called with its own key.
describe('embedded mode: model endpoints belong to the operator', () => {
  let app: StandaloneProcess | undefined;
  let url: string;
  let key: string;
  let fake: FakeOpenAIServer;
  let capture: Server;
  let captureUrl: string;
  const captured: string[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAIServer();
    capture = createServer((req, res) => {
      captured.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    captureUrl = `http://127.0.0.1:${(capture.address() as AddressInfo).port}/v1`;
    // PGlite's cold start is seconds on an idle machine, minutes on a loaded shared one.
    app = await startStandalone(280_000, {
      DATABASE_URL: SECRET,
      LOCAL_MODEL_KEY: 'sk-operator-key',
      AGENTLEDGER_MODEL_ENDPOINTS: JSON.stringify({
        local: { baseUrl: fake.baseUrl, apiKeyEnv: 'LOCAL_MODEL_KEY', models: ['gpt-test'] },
      }),
    });
    url = app.url;
    key = app.apiKey;
  }, 300_000);

  afterAll(async () => {
    // The process exits before its data directory is removed (PGlite writes until it has).
    await app?.stop();
    await new Promise((resolve) => capture?.close(resolve));
    await fake?.close();
  });

  const put = (teamId: string, spec: unknown) =>
    fetch(`${url}/v1/teams/${teamId}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    });
  const single = (model: Record<string, unknown>) => ({
    specVersion: 1,
    name: 't',
    type: 'single',
    agents: [{ name: 'a', model }],
  });

  it('refuses a spec naming its own base URL and a secret env var as the key (422 naming both fields)', async () => {
    const response = await put(
      'exfil',
      single({ model: 'gpt-4o-mini', baseUrl: captureUrl, apiKeyEnv: 'DATABASE_URL' }),
    );
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((e) => e.field)).toEqual([
      'agents.0.model.baseUrl',
      'agents.0.model.apiKeyEnv',
    ]);
    expect(JSON.stringify(problem)).not.toContain('hunter2');

    const autogen = await put('exfil-autogen', {
      provider: 'autogen_agentchat.agents.AssistantAgent',
      component_type: 'agent',
      config: {
        name: 'a',
        model_client: {
          provider: 'autogen_ext.models.openai.OpenAIChatCompletionClient',
          config: { model: 'gpt-4o-mini', base_url: captureUrl, api_key: 'sk-tenant' },
        },
      },
    });
    expect(autogen.status).toBe(422);
    const autogenProblem = (await autogen.json()) as { errors: { field: string }[] };
    expect(autogenProblem.errors.map((e) => e.field)).toEqual(['config.model_client.config.base_url']);
    expect(captured).toEqual([]);
  });

  it('runs a team on the endpoint it names, with the operator key, and records endpoint and model', async () => {
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    expect((await put('local', single({ endpoint: 'local', model: 'gpt-test' }))).status).toBeLessThan(300);
    const notAllowed = await put('other-model', single({ endpoint: 'local', model: 'gpt-5' }));
    expect(notAllowed.status).toBe(422);
    const before = fake.requests.length;
    const created = await fetch(`${url}/v1/sessions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ teamId: 'local' }),
    });
    const { sessionId } = (await created.json()) as { sessionId: string };
    await fetch(`${url}/v1/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ content: 'hi' }),
    });
    const events = await eventually(
      'the turn to complete',
      async () => {
        const page = await fetch(`${url}/v1/sessions/${sessionId}/events`, { headers });
        const body = (await page.json()) as { events: { type: string; data: Record<string, unknown> }[] };
        return body.events.some((e) => e.type === 'TurnCompleted') ? body.events : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(events.find((e) => e.type === 'ModelCallRequested')?.data).toMatchObject({
      endpoint: 'local',
      model: 'gpt-test',
    });
    expect(JSON.stringify(events)).not.toContain('sk-operator-key');
    expect(fake.requests[before]?.headers['authorization']).toBe('Bearer sk-operator-key');
    expect(captured).toEqual([]);
  });
});
