import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextAction } from '../core/session/next-action.ts';
import { parseModelEndpoints } from '../core/spec/model-endpoints.ts';
import { runModelCall } from '../effects/run-model-call.ts';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../testing/fake-openai-server.ts';
import { sessionHarness, spec } from '../testing/session-harness.ts';
import { builtinTools } from '../tools/builtin.ts';
import { createModelClientResolver } from './model-resolver.ts';

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await startFakeOpenAIServer();
});
afterAll(() => server.close());

const env = { FAKE_KEY: 'sk-endpoint-key', DATABASE_URL: 'postgres://u:hunter2@db/prod' };
const endpointsFor = () =>
  parseModelEndpoints(
    {
      AGENTLEDGER_MODEL_ENDPOINTS: JSON.stringify({
        fake: { baseUrl: server.baseUrl, apiKeyEnv: 'FAKE_KEY', models: ['gpt-test'] },
        filed: { baseUrl: server.baseUrl, apiKeyFile: '/run/secrets/fake' },
      }),
    },
    () => '',
  );

/** One pending model call of a session whose spec was stored as given (not bound at the edge). */
const pendingCall = (model: Record<string, unknown>) => {
  const h = sessionHarness(spec({ type: 'single', agents: [{ name: 'assistant', model: model as never }] }));
  h.start();
  h.post('m1', 'hi');
  const action = nextAction(h.state());
  if (action.kind !== 'call_model') throw new Error(action.kind);
  return { h, action };
};

const run = (model: Record<string, unknown>, files: Record<string, string> = {}) => {
  const { h, action } = pendingCall(model);
  const models = createModelClientResolver({
    endpoints: endpointsFor(),
    env,
    readKeyFile: (path) => files[path] ?? '',
  });
  return runModelCall({ models, tools: builtinTools(), clock: () => new Date() }, h.state(), action);
};

describe('the model resolver calls only operator endpoints', () => {
  it('refuses a stored spec naming another URL and key variable: a failed call, no request, no secret', async () => {
    const before = server.requests.length;
    const command = await run({
      provider: 'openai',
      model: 'gpt-test',
      baseUrl: 'http://127.0.0.1:9/v1',
      apiKeyEnv: 'DATABASE_URL',
    });
    expect(command?.data).toMatchObject({
      outcome: 'failed',
      error: {
        type: 'endpoint_not_configured',
        message: 'the model endpoint is not configured',
        retryable: false,
      },
    });
    expect(JSON.stringify(command)).not.toContain('hunter2');
    const unknown = await run({ provider: 'openai', endpoint: 'elsewhere', model: 'gpt-test' });
    expect(unknown?.data).toMatchObject({ outcome: 'failed', error: { type: 'endpoint_not_configured' } });
    const notAllowed = await run({ provider: 'openai', endpoint: 'fake', model: 'gpt-5' });
    expect(notAllowed?.data).toMatchObject({ outcome: 'failed', error: { type: 'endpoint_not_configured' } });
    expect(server.requests.length).toBe(before);
  });

  it("sends the endpoint's key from its env variable or its file, read at call time", async () => {
    const before = server.requests.length;
    await expect(run({ provider: 'openai', endpoint: 'fake', model: 'gpt-test' })).resolves.toMatchObject({
      data: { outcome: 'completed' },
    });
    await expect(
      run(
        { provider: 'openai', endpoint: 'filed', model: 'gpt-test' },
        { '/run/secrets/fake': 'sk-from-file\n' },
      ),
    ).resolves.toMatchObject({ data: { outcome: 'completed' } });
    expect(server.requests.slice(before).map((r) => r.headers['authorization'])).toEqual([
      'Bearer sk-endpoint-key',
      'Bearer sk-from-file',
    ]);
  });

  it('records the endpoint and model in ModelCallRequested, never the key', () => {
    const { h } = pendingCall({ provider: 'openai', endpoint: 'fake', model: 'gpt-test' });
    const requested = h.events.find((e) => e.type === 'ModelCallRequested');
    expect(requested?.data).toMatchObject({ endpoint: 'fake', model: 'gpt-test' });
    const byDefault = pendingCall({ provider: 'openai', model: 'gpt-4o-mini' }).h.events.find(
      (e) => e.type === 'ModelCallRequested',
    );
    expect(byDefault?.data).toMatchObject({ endpoint: 'default', model: 'gpt-4o-mini' });
    expect(JSON.stringify(h.events)).not.toContain('sk-endpoint-key');
  });
});
