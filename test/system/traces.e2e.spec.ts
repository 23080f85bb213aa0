import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sessionStreamId } from '@agentledger/events';
import { eventually } from '@agentledger/testing';
import { startOtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { createOrchestratorWorld, type OrchestratorWorld } from '../support/orchestrator-world.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const KEY = 'trace-test-key';
const TENANT = 'acme';
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

type Receiver = Awaited<ReturnType<typeof startOtlpReceiver>>;

/** Every span of a trace reaches its root through parents that are in the trace too. */
const rootsOf = (spans: readonly ReceivedSpan[]): ReceivedSpan[] => {
  const ids = new Set(spans.map((s) => s.spanId));
  return spans.filter((s) => !ids.has(s.parentSpanId));
};

const childrenOf = (spans: readonly ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] =>
  spans.filter((s) => s.parentSpanId === parent.spanId);

// Issue 14, "Done when": a gateway process and an orchestrator process on Postgres and Kafka export
// their spans to a local OTLP/HTTP receiver; each turn is one connected trace, gateway to model.
describe('traces: one trace per turn across the gateway and the orchestrator', () => {
  let world: OrchestratorWorld;
  let receiver: Receiver;
  let gateway: ChildProcess | undefined;
  let gatewayOutput = '';
  let url: string;
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const otel = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
    world = await createOrchestratorWorld({
      adminUrl: inject('databaseUrl'),
      brokers: inject('kafkaBrokers'),
      runId: inject('runId'),
      name: 'traces',
      env: otel,
    });
    // A tool call, then the answer: two model calls and one tool call per turn, with known usage.
    world.fake.setFallback((raw) => {
      const { messages } = raw as { messages: { role: string }[] };
      return messages.at(-1)?.role === 'user'
        ? {
            kind: 'message',
            toolCalls: [{ name: 'calculator', arguments: '{"a":12,"b":3,"operator":"*"}' }],
            usage: { promptTokens: 21, completionTokens: 7 },
          }
        : {
            kind: 'message',
            content: 'Done: 36. TERMINATE',
            usage: { promptTokens: 34, completionTokens: 6 },
          };
    });
    await world.start('trace-a');
    gateway = spawn(process.execPath, ['apps/gateway/dist/main.js'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_NO_WARNINGS: '1',
        DATABASE_URL: world.env.DATABASE_URL,
        KAFKA_PARTITIONS: '12',
        PORT: '0',
        GRPC_PORT: '0',
        AGENTLEDGER_API_KEYS: `${TENANT}:${KEY}`,
        ...otel,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gateway.stdout!.on('data', (chunk: Buffer) => (gatewayOutput += chunk.toString()));
    gateway.stderr!.on('data', (chunk: Buffer) => (gatewayOutput += chunk.toString()));
    url = await eventually(
      'the gateway to listen',
      () => {
        if (gateway!.exitCode !== null) throw new Error(`gateway exited: ${gatewayOutput}`);
        return /AgentLedger gateway: (http:\/\/\S+)/.exec(gatewayOutput)?.[1];
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const spec = await readFile(`${root}examples/support-team.json`, 'utf8');
    const put = await fetch(`${url}/v1/teams/support-team`, { method: 'PUT', headers, body: spec });
    expect(put.status).toBeLessThan(300);
  });

  afterAll(async () => {
    gateway?.kill('SIGKILL');
    await world?.close();
    await receiver?.close();
  });

  /** Posts a message, waits for the turn to complete; the trace ids its events carry. */
  const runTurn = async (sessionId: string, content: string, extra: Record<string, string> = {}) => {
    const posted = await fetch(`${url}/v1/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers: { ...headers, ...extra },
      body: JSON.stringify({ content }),
    });
    expect(posted.status).toBe(202);
    const { version } = (await posted.json()) as { version: number };
    return eventually(
      `the turn after version ${version} to complete`,
      async () => {
        const { rows } = await world.store.pool.query<{ type: string; traceparent: string | null }>(
          `select type, metadata->>'traceparent' as traceparent from events
           where stream_id = $1 and version >= $2 order by version`,
          [sessionStreamId(TENANT, sessionId), version],
        );
        return rows.some((r) => r.type === 'TurnCompleted') ? rows : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  };

  /** The spans of one trace, once both processes exported the whole turn (model spans to the end). */
  const traceOf = (traceId: string) =>
    eventually(
      `trace ${traceId} to be exported by both processes`,
      () => {
        const spans = receiver.spans().filter((s) => s.traceId === traceId);
        const models = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
        const appendsAfterModels = spans.filter(
          (s) => s.name === 'session.append' && s.attributes['agentledger.command'] === 'RecordModelCall',
        );
        const services = new Set(spans.map((s) => s.service));
        return models.length === 2 && appendsAfterModels.length === 2 && services.size === 2
          ? spans
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );

  it('connects the gateway request, the relay, the consumer, the step, the model and the tool', async () => {
    const created = await fetch(`${url}/v1/sessions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ teamId: 'support-team', sessionId: 'traced-1' }),
    });
    expect(created.status).toBe(201);

    const events = await runTurn('traced-1', 'What is 12 * 3?');
    // Every event of the turn, from the gateway's and from the orchestrator's appends, names one trace.
    const traceIds = new Set(events.map((e) => e.traceparent?.split('-')[1]));
    expect(traceIds.size).toBe(1);
    const [traceId] = [...traceIds] as [string];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const spans = await traceOf(traceId);
    const roots = rootsOf(spans);
    expect(roots.map((r) => [r.service, r.name])).toEqual([
      ['agentledger-gateway', 'POST /v1/sessions/:id/messages'],
    ]);
    const [request] = roots as [ReceivedSpan];
    expect(request.attributes['http.response.status_code']).toBe(202);

    const [append] = childrenOf(spans, request);
    expect(append).toMatchObject({ service: 'agentledger-gateway', name: 'session.append' });
    // Under the append: the relay's publish spans, and possibly a step that no delivery scheduled
    // (the recovery scan), which continues the turn's trace from its events' traceparent.
    const underAppend = childrenOf(spans, append!);
    const published = underAppend.filter((s) => s.name === 'publish session-events');
    expect(published.length).toBeGreaterThan(0);
    expect(underAppend.filter((s) => s.name !== 'publish session-events').map((s) => s.name)).toEqual(
      underAppend.filter((s) => s.name === 'session.step').map((s) => s.name),
    );
    expect(new Set(published.map((s) => s.service))).toEqual(new Set(['agentledger-orchestrator']));

    // The Kafka header carried the publish span: the consumer's span is its child, the step the consumer's.
    const consumed = published.flatMap((p) => childrenOf(spans, p));
    expect(consumed.map((s) => s.name)).toContain('process session-events');
    // Every step continues the turn: under a consumer span (scheduled by a delivery) or, when the
    // recovery scan got to the session first, under the append that recorded the message.
    const steps = spans.filter((s) => s.name === 'session.step');
    expect(steps.length).toBeGreaterThan(0);
    const stepParents = new Set([...consumed, append!].map((s) => s.spanId));
    expect(steps.every((s) => stepParents.has(s.parentSpanId))).toBe(true);

    const models = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(models.map((m) => m.attributes)).toEqual([
      expect.objectContaining({
        'gen_ai.system': 'openai',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 21,
        'gen_ai.usage.output_tokens': 7,
        'gen_ai.response.finish_reasons': ['tool_calls'],
      }),
      expect.objectContaining({
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 34,
        'gen_ai.usage.output_tokens': 6,
        'gen_ai.response.finish_reasons': ['stop'],
      }),
    ]);
    expect(
      models.every((m) => m.name === 'chat gpt-4o-mini' && m.service === 'agentledger-orchestrator'),
    ).toBe(true);
    const stepIds = new Set(steps.map((s) => s.spanId));
    expect(models.every((m) => stepIds.has(m.parentSpanId))).toBe(true);

    const tools = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'execute_tool');
    expect(
      tools.map((t) => [t.name, t.attributes['gen_ai.tool.name'], t.attributes['agentledger.tool.outcome']]),
    ).toEqual([['execute_tool calculator', 'calculator', 'completed']]);
    // No prompt or answer text in any span.
    const exported = JSON.stringify(spans);
    expect(exported).not.toContain('12 * 3');
    expect(exported).not.toContain('Done: 36');
  });

  it('starts each turn in its own trace, continuing the caller’s traceparent when it sends one', async () => {
    const created = await fetch(`${url}/v1/sessions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ teamId: 'support-team', sessionId: 'traced-2' }),
    });
    expect(created.status).toBe(201);
    const first = await runTurn('traced-2', 'What is 12 * 3?');
    const second = await runTurn('traced-2', 'And again?', {
      traceparent: `00-${CLIENT_TRACE}-00f067aa0ba902b7-01`,
    });
    const firstTrace = new Set(first.map((e) => e.traceparent?.split('-')[1]));
    const secondTrace = new Set(second.map((e) => e.traceparent?.split('-')[1]));
    expect(firstTrace.size).toBe(1);
    expect([...secondTrace]).toEqual([CLIENT_TRACE]);
    expect(firstTrace.has(CLIENT_TRACE)).toBe(false);

    // An invalid traceparent is ignored (W3C): the turn gets a trace of its own, never the caller's text.
    const third = await runTurn('traced-2', 'Once more?', { traceparent: `00-${'g'.repeat(32)}-bad-01` });
    const thirdTrace = new Set(third.map((e) => e.traceparent?.split('-')[1]));
    expect(thirdTrace.size).toBe(1);
    expect([...thirdTrace][0]).toMatch(/^[0-9a-f]{32}$/);
    expect([...thirdTrace][0]).not.toBe(CLIENT_TRACE);
    expect(thirdTrace.has([...firstTrace][0])).toBe(false);

    const spans = await traceOf(CLIENT_TRACE);
    // The caller's span is the parent of the gateway's request span: the only span without a parent here.
    expect(rootsOf(spans).map((s) => [s.name, s.parentSpanId])).toEqual([
      ['POST /v1/sessions/:id/messages', '00f067aa0ba902b7'],
    ]);
  });
});
