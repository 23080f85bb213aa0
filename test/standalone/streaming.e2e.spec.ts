import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '@agentledger/agents/testing';
import type { EventEnvelope, SessionDelta } from '@agentledger/events';
import { openSse, type SseFrame } from '../../apps/gateway/src/testing/sse-client.ts';
import { startStandalone, type StandaloneProcess } from '../support/standalone-process.ts';

const ANSWER = 'Embedded mode streams the answer too, through the in-process channel.';

// Issue 15 in `npm start`: the embedded runtime's model calls stream to the same process's SSE.
describe('embedded mode: model output streams to SSE', () => {
  let fake: FakeOpenAIServer;
  let app: StandaloneProcess;

  beforeAll(async () => {
    fake = await startFakeOpenAIServer();
    app = await startStandalone(270_000, {
      LOCAL_MODEL_KEY: 'sk-local',
      AGENTLEDGER_MODEL_ENDPOINTS: JSON.stringify({
        local: { baseUrl: fake.baseUrl, apiKeyEnv: 'LOCAL_MODEL_KEY', models: ['gpt-test'] },
      }),
    });
  }, 300_000);

  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  const rest = (method: string, path: string, body?: unknown) =>
    fetch(`${app.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${app.apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('sends the deltas, in order, before the recorded ModelCallCompleted', async () => {
    const team = {
      specVersion: 1,
      name: 'local-writer',
      type: 'single',
      agents: [{ name: 'writer', model: { provider: 'openai', endpoint: 'local', model: 'gpt-test' } }],
    };
    expect((await rest('PUT', '/v1/teams/local-writer', team)).status).toBe(200);
    expect(
      (await rest('POST', '/v1/sessions', { teamId: 'local-writer', sessionId: 'embedded-1' })).status,
    ).toBe(201);
    const sse = await openSse(`${app.url}/v1/sessions/embedded-1/stream`, {
      authorization: `Bearer ${app.apiKey}`,
    });
    expect(await sse.next()).toMatchObject({ event: 'SessionStarted' });
    fake.enqueue({ kind: 'message', content: ANSWER, chunkDelayMs: 20 });
    expect(
      (await rest('POST', '/v1/sessions/embedded-1/messages', { content: 'Stream, please.' })).status,
    ).toBe(202);
    const frames: SseFrame[] = [];
    for (;;) {
      const frame = await sse.next();
      frames.push(frame);
      if (frame.event === 'ModelCallCompleted') break;
    }
    sse.close();
    const deltas = frames.filter((f) => f.event === 'delta').map((f) => JSON.parse(f.data) as SessionDelta);
    const completed = JSON.parse(frames.at(-1)!.data) as EventEnvelope;
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.every((d) => d.callId === (completed.data as { callId: string }).callId)).toBe(true);
    expect(deltas.map((d) => d.seq)).toEqual(deltas.map((_, i) => i));
    expect(deltas.map((d) => d.text).join('')).toBe(ANSWER);
    expect((completed.data as { content: string }).content).toBe(ANSWER);
    expect(frames.filter((f) => f.event === 'delta').every((f) => f.id === undefined)).toBe(true);
  });
});
