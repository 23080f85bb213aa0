import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '@agentledger/agents/testing';
import { eventually } from '@agentledger/testing';
import { startStandalone, type StandaloneProcess } from '../support/standalone-process.ts';
import { answerWithStamp, stampTeam } from '../support/stamp-model.ts';

const stampTools = fileURLToPath(new URL('../support/stamp-tools.ts', import.meta.url));

type Event = { type: string; data: Record<string, unknown> };

// `npm start` honours TOOLS_MODULE (it used to drop it): the operator's module is loaded by the
// embedded runtime, the gateway accepts specs naming its tools, and a team's turn runs the tool
// inside the started process. Tenants name tools, never modules: an unknown name is refused.
// MODEL_CALL_TIMEOUT_MS and MAX_MODEL_PARKS (also dropped before) are seen at work too.
describe('embedded mode: TOOLS_MODULE and the other orchestrator settings', () => {
  let fake: FakeOpenAIServer;
  let app: StandaloneProcess;
  const headers = () => ({ authorization: `Bearer ${app.apiKey}`, 'content-type': 'application/json' });

  beforeAll(async () => {
    fake = await startFakeOpenAIServer();
    answerWithStamp(fake, 6_000);
    app = await startStandalone(280_000, {
      TOOLS_MODULE: stampTools,
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test-key-not-secret',
      MODEL_CALL_TIMEOUT_MS: '1500',
      MAX_MODEL_PARKS: '0',
    });
  }, 300_000);

  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  const put = (teamId: string, spec: unknown) =>
    fetch(`${app.url}/v1/teams/${teamId}`, { method: 'PUT', headers: headers(), body: JSON.stringify(spec) });

  const turn = async (sessionId: string, content: string): Promise<Event[]> => {
    const posted = await fetch(`${app.url}/v1/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers: { ...headers(), 'idempotency-key': `${sessionId}-${content.replace(/\W/g, '_')}` },
      body: JSON.stringify({ content }),
    });
    expect(posted.status).toBe(202);
    return eventually(
      'the turn to end',
      async () => {
        const page = await fetch(`${app.url}/v1/sessions/${sessionId}/events`, { headers: headers() });
        const body = (await page.json()) as { events: Event[] };
        return body.events.some((e) => e.type === 'TurnCompleted' || e.type === 'TurnFailed')
          ? body.events
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  };

  const session = async (): Promise<string> => {
    const created = await fetch(`${app.url}/v1/sessions`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ teamId: 'stamp' }),
    });
    expect(created.status).toBe(201);
    return ((await created.json()) as { sessionId: string }).sessionId;
  };

  it('runs a team whose agent calls the module tool, in the started process', async () => {
    expect((await put('stamp', stampTeam)).status).toBeLessThan(300);
    const events = await turn(await session(), 'invoice 7');
    expect(events.map((e) => e.type)).toContain('TurnCompleted');
    expect(events.find((e) => e.type === 'ToolCallRequested')?.data).toMatchObject({ name: 'stamp' });
    expect(events.filter((e) => e.type === 'ToolCallCompleted').map((e) => e.data.result)).toEqual([
      `stamped invoice 7 in process ${app.pid}`,
    ]);
  });

  it('aborts a model call at MODEL_CALL_TIMEOUT_MS and, with MAX_MODEL_PARKS=0, records it failed at once', async () => {
    expect((await put('stamp', stampTeam)).status).toBeLessThan(300);
    const events = await turn(await session(), 'slow');
    const failed = events.filter((e) => e.type === 'ModelCallFailed').map((e) => e.data.error);
    expect(failed).toEqual([expect.objectContaining({ type: 'timeout', retryable: true })]);
    expect(events.map((e) => e.type)).toContain('TurnFailed');
  });

  it('refuses a spec naming a tool the operator did not register (422 naming it)', async () => {
    const response = await put('unknown-tool', {
      ...stampTeam,
      agents: [{ ...stampTeam.agents[0], tools: ['./evil-tools.ts'] }],
    });
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as { errors: { field: string; message: string }[] };
    expect(problem.errors).toEqual([
      expect.objectContaining({ field: 'agents', message: 'unknown tool "./evil-tools.ts"' }),
    ]);
  });
});
