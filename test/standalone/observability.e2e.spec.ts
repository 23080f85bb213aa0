import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '@agentledger/agents/testing';
import { eventually } from '@agentledger/testing';
import { startStandalone, type StandaloneProcess } from '../support/standalone-process.ts';
import {
  jsonLines,
  metricFamilies,
  sample,
  turnTraceId,
  type EventEnvelope,
} from '../support/observability.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const API_KEY = `al_planted_${randomUUID()}`;
const MODEL_KEY = `sk-planted-${randomUUID()}`;
const PROMPT = `planted prompt ${randomUUID()}`;

type OpenAIBody = { messages: { role: string; content?: string | null }[] };

// The embedded product (`npm start`: gateway and orchestrator in one process) on an
// OpenAI-compatible endpoint that echoes the prompt, with a key that must never be written.
describe('observability of the embedded app: one process, one log, one /metrics', () => {
  let fake: FakeOpenAIServer;
  let app: StandaloneProcess;

  beforeAll(async () => {
    fake = await startFakeOpenAIServer();
    fake.setFallback((raw) => {
      const user = (raw as OpenAIBody).messages.findLast((m) => m.role === 'user')?.content ?? '';
      return { kind: 'message', content: `You said: ${user}. TERMINATE` };
    });
    fake.enqueue({ kind: 'error', status: 500, message: `upstream failed for ${MODEL_KEY}: ${PROMPT}` });
    app = await startStandalone(270_000, {
      AGENTLEDGER_API_KEYS: `acme:${API_KEY}`,
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: MODEL_KEY,
      LOG_LEVEL: 'debug',
    });
    const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
    const put = await fetch(`${app.url}/v1/teams/support-team`, {
      method: 'PUT',
      headers,
      body: await readFile(`${root}examples/support-team.json`, 'utf8'),
    });
    expect(put.status).toBeLessThan(300);
    const created = await fetch(`${app.url}/v1/sessions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ teamId: 'support-team', sessionId: 'embedded-obs-1' }),
    });
    expect(created.status).toBe(201);
    const turn = await fetch(`${app.url}/v1/sessions/embedded-obs-1/messages?wait=60`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': 'm-1' },
      body: JSON.stringify({ content: PROMPT }),
    });
    expect(turn.status).toBe(200);
    const body = (await turn.json()) as { status: string; messages: { content: string }[] };
    expect(body.status).toBe('idle');
    expect(body.messages.at(-1)?.content).toContain(PROMPT);
  });

  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  it('writes neither planted key nor the planted prompt, and puts the session on the lines of the turn', async () => {
    // The SDK retried the 500 that echoed both: the key and the prompt went over the wire.
    expect(fake.requests.filter((r) => r.headers.authorization === `Bearer ${MODEL_KEY}`).length).toBe(2);
    // The request line is written once the answer is sent.
    const output = await eventually('the request log line of the turn', () => {
      const text = app.output();
      return text.includes('"route":"/v1/sessions/:id/messages"') ? text : undefined;
    });
    expect(output).not.toContain(API_KEY);
    expect(output).not.toContain(MODEL_KEY);
    expect(output).not.toContain(PROMPT);

    const turn = jsonLines(output).filter((line) => line.sessionId === 'embedded-obs-1');
    expect(turn.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['model call completed', 'model call content', 'request completed']),
    );
    for (const line of turn) expect(line).toMatchObject({ tenant: 'acme', app: 'standalone' });
    expect(turn.find((line) => line.msg === 'model call content')).toMatchObject({
      agent: 'support_agent',
      content: '[Redacted]',
    });
  });

  it("puts the turn's trace id, the one its events carry, on every line of the turn (no exporter configured)", async () => {
    const output = await eventually('the request log line of the turn', () => {
      const text = app.output();
      return text.includes('"route":"/v1/sessions/:id/messages"') ? text : undefined;
    });
    const listed = await fetch(`${app.url}/v1/sessions/embedded-obs-1/events?limit=1000`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    const { events } = (await listed.json()) as { events: EventEnvelope[] };
    const trace = turnTraceId(events);

    const turn = jsonLines(output).filter((line) => line.sessionId === 'embedded-obs-1');
    expect(turn.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['model call completed', 'model call content', 'request completed']),
    );
    expect(turn.map((line) => [line.msg, line.traceId])).toEqual(turn.map((line) => [line.msg, trace]));
  });

  it("serves the gateway's and the orchestrator's metric families on its one /metrics", async () => {
    const families = metricFamilies(await (await fetch(`${app.url}/metrics`)).text());
    const route = { method: 'POST', route: '/v1/sessions/:id/messages', status: '200' };
    expect(sample(families, 'agentledger_http_request_duration_seconds_count', route)).toBe(1);
    expect(sample(families, 'agentledger_events_appended_total', { type: 'UserMessageReceived' })).toBe(1);
    expect(sample(families, 'agentledger_sessions', { status: 'idle' })).toBe(1);
    const model = { endpoint: 'default', model: 'gpt-4o-mini' };
    expect(sample(families, 'agentledger_model_call_duration_seconds_count', model)).toBe(1);
    expect(sample(families, 'agentledger_model_tokens_total', { ...model, kind: 'prompt' })).toBeGreaterThan(
      0,
    );
    expect(sample(families, 'agentledger_relay_published_events_total')).toBeGreaterThan(5);
    expect((families.get('agentledger_consumer_lag_offsets') ?? []).length).toBeGreaterThan(0);
    expect(sample(families, 'agentledger_leases_held')).toBe(0);
  });
});
