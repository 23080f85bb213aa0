import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createModelClientResolver, parseModelEndpoints, teamSpecSchema } from '@agentledger/agents';
import type { FakeReply } from '@agentledger/agents/testing';
import type { EventEnvelope, SessionDelta } from '@agentledger/events';
import { runTeam } from '@agentledger/sessions';
import { eventually } from '@agentledger/testing';
import type { GrpcEvent } from '../../apps/gateway/src/grpc/session-messages.grpc.ts';
import { connectGrpc, type GrpcTestClient } from '../../apps/gateway/src/testing/grpc-client.ts';
import { openSse, type SseFrame } from '../../apps/gateway/src/testing/sse-client.ts';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { createOrchestratorWorld, type OrchestratorWorld } from '../support/orchestrator-world.ts';

const KEY = 'streaming-test-key';
const spec = {
  specVersion: 1,
  name: 'writers',
  type: 'single',
  agents: [{ name: 'writer', model: { provider: 'openai', model: 'fake-model', maxRetries: 0 } }],
};
const ANSWER =
  'Streaming shows the answer while the model writes it, piece by piece, and the log keeps only the whole.';
// Stalls between chunks, so a second watcher can join in the middle of the call.
const reply: FakeReply = {
  kind: 'message',
  content: ANSWER,
  usage: { promptTokens: 17, completionTokens: 23 },
  chunkDelayMs: 300,
};

type Item = Readonly<{ delta: SessionDelta } | { event: EventEnvelope }>;

/** Reads an SSE stream into `items` in the background until a frame satisfies `last`. */
const collectSse = (frames: () => Promise<SseFrame>, last: (item: Item) => boolean) => {
  const items: Item[] = [];
  const done = (async () => {
    for (;;) {
      const frame = await frames();
      const item: Item =
        frame.event === 'delta'
          ? { delta: JSON.parse(frame.data) as SessionDelta }
          : { event: JSON.parse(frame.data) as EventEnvelope };
      items.push(item);
      if (last(item)) return items;
    }
  })();
  return { items, done };
};

const completedOf = (item: Item): boolean => 'event' in item && item.event.type === 'ModelCallCompleted';
const deltasOf = (items: readonly Item[]) => items.flatMap((i) => ('delta' in i ? [i.delta] : []));

// Issue 15: the orchestrator process that owns a call publishes its output through Kafka; the
// gateway process forwards it to SSE and gRPC watchers before the recorded ModelCallCompleted.
describe('distributed mode: model output streams to SSE and gRPC watchers', () => {
  let world: OrchestratorWorld;
  let gateway: GatewayProcess;
  let grpc: GrpcTestClient;

  beforeAll(async () => {
    const deltasTopic = `e2e-deltas.streaming.${inject('runId')}`;
    world = await createOrchestratorWorld({
      adminUrl: inject('databaseUrl'),
      brokers: inject('kafkaBrokers'),
      runId: inject('runId'),
      name: 'streaming',
      env: { KAFKA_DELTAS_TOPIC: deltasTopic },
    });
    await world.start('replica-a');
    gateway = await startGatewayProcess({
      DATABASE_URL: world.env.DATABASE_URL,
      KAFKA_PARTITIONS: '12',
      KAFKA_BROKERS: inject('kafkaBrokers'),
      KAFKA_DELTAS_TOPIC: deltasTopic,
      AGENTLEDGER_API_KEYS: `acme:${KEY}`,
    });
    grpc = await connectGrpc(gateway.grpcAddress);
  }, 180_000);

  afterAll(async () => {
    grpc?.close();
    await gateway?.stop();
    await world?.close();
  });

  const rest = (method: string, path: string, body?: unknown) =>
    fetch(`${gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('sees the deltas in order before ModelCallCompleted, on SSE and gRPC; a late watcher sees the rest', async () => {
    expect((await rest('PUT', '/v1/teams/writers', spec)).status).toBe(200);
    expect((await rest('POST', '/v1/sessions', { teamId: 'writers', sessionId: 'stream-1' })).status).toBe(
      201,
    );

    const sse = await openSse(`${gateway.url}/v1/sessions/stream-1/stream`, {
      authorization: `Bearer ${KEY}`,
    });
    const first = collectSse(sse.next, completedOf);
    const grpcItems: GrpcEvent[] = [];
    const grpcStream = grpc.stream('StreamEvents', { session_id: 'stream-1', after: '0' }, KEY);
    grpcStream.on('data', (event: GrpcEvent) => grpcItems.push(event));
    grpcStream.on('error', () => undefined);
    await eventually('both watchers to see SessionStarted', () =>
      first.items.length > 0 && grpcItems.length > 0 ? true : undefined,
    );

    world.fake.enqueue(reply);
    expect(
      (await rest('POST', '/v1/sessions/stream-1/messages', { content: 'Explain streaming.' })).status,
    ).toBe(202);

    // A second SSE watcher joins once the first has seen a few deltas: it gets the rest.
    await eventually(
      'three deltas on the first watcher',
      () => (deltasOf(first.items).length >= 3 ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );
    const seenVersion = Math.max(...first.items.flatMap((i) => ('event' in i ? [i.event.version] : [])));
    const late = await openSse(`${gateway.url}/v1/sessions/stream-1/stream`, {
      authorization: `Bearer ${KEY}`,
      'last-event-id': String(seenVersion),
    });
    const second = collectSse(late.next, completedOf);

    const [items, lateItems] = await Promise.all([first.done, second.done]);
    await eventually('ModelCallCompleted over gRPC', () =>
      grpcItems.some((e) => e.type === 'ModelCallCompleted') ? true : undefined,
    );
    sse.close();
    late.close();
    grpcStream.cancel();

    // SSE: every delta of the call before its recorded event, in order, and they add up to it.
    const completed = (items.at(-1) as { event: EventEnvelope }).event;
    const data = completed.data as { callId: string; content: string };
    const deltas = deltasOf(items).filter((d) => d.callId === data.callId);
    expect(deltas.length).toBeGreaterThan(10);
    expect(deltas.map((d) => d.seq)).toEqual(deltas.map((_, i) => i));
    expect(deltas.map((d) => d.text).join('')).toBe(ANSWER);
    expect(data.content).toBe(ANSWER);

    // gRPC: the same deltas, before the same event.
    const grpcCompleted = grpcItems.findIndex((e) => e.type === 'ModelCallCompleted');
    const grpcDeltas = grpcItems
      .slice(0, grpcCompleted)
      .flatMap((e) => (e.type === 'delta' && e.delta ? [e.delta] : []));
    expect(grpcItems.slice(grpcCompleted).some((e) => e.type === 'delta')).toBe(false);
    expect(grpcDeltas.map((d) => d.seq)).toEqual(deltas.map((d) => d.seq));
    expect(grpcDeltas.map((d) => d.text).join('')).toBe(ANSWER);
    expect(JSON.parse(grpcItems[grpcCompleted]!.data_json)).toEqual(completed.data);

    // The late watcher: a non-empty rest of the same deltas (it joined mid-call), then the event.
    const lateDeltas = deltasOf(lateItems);
    expect(lateDeltas.length).toBeGreaterThan(0);
    expect(lateDeltas[0]!.seq).toBeGreaterThan(0);
    expect(lateDeltas).toEqual(deltas.slice(lateDeltas[0]!.seq));
    expect((lateItems.at(-1) as { event: EventEnvelope }).event.eventId).toBe(completed.eventId);

    // Replay is unchanged: the recorded event equals a non-streamed run's (latency aside).
    world.fake.enqueue(reply);
    const endpoints = parseModelEndpoints({ OPENAI_BASE_URL: world.fake.baseUrl }, () => '');
    const whole = await runTeam(teamSpecSchema.parse(spec), 'Explain streaming.', {
      model: createModelClientResolver({ endpoints, env: { OPENAI_API_KEY: 'test' } }),
      endpoints,
    });
    const wholeCompleted = whole.events.find((e) => e.type === 'ModelCallCompleted');
    const { latencyMs: _streamed, ...streamedData } = completed.data as { latencyMs: number };
    const { latencyMs: _whole, ...wholeData } = wholeCompleted?.data as { latencyMs: number };
    expect(streamedData).toEqual(wholeData);
    const requests = world.fake.requests.slice(-2).map((r) => (r.body as { stream?: boolean }).stream);
    expect(requests).toEqual([true, false]);
  });
});
