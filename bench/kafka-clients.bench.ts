import { mkdir, writeFile } from 'node:fs/promises';
import { DEFAULT_PARTITIONS, type EventBus, type Subscription } from '@agentledger/events/bus';
import { createKafkaEventBus, ensureKafkaTopic } from '@agentledger/events/kafka';
import { createPlatformaticEventBus } from '@agentledger/events/kafka-platformatic';
import type { EventEnvelope } from '@agentledger/events';
import { requireKafka, type KafkaClient } from './kafka-preflight.ts';

/**
 * `npm run bench -- kafka-clients`: the two Kafka `EventBus` adapters side by side, on the broker
 * of KAFKA_BROKERS (default 127.0.0.1:9092), a fresh 12-partition topic per client: publish
 * throughput (sequential 500-event publishes, as the relay does), consume throughput (a new group
 * reading the topic from the beginning), and rebalance time (a third member joins a group of two,
 * then one leaves: the time until the members' callbacks again cover every partition once).
 * KAFKA_CLIENTS=kafkajs or =platformatic runs one. Writes bench/results/kafka-clients.json.
 */

export const usage = `usage: npm run bench -- kafka-clients
The two Kafka EventBus adapters side by side: publish and consume throughput, rebalance time. No options.
env: KAFKA_BROKERS (default 127.0.0.1:9092), KAFKA_CLIENTS (default kafkajs,platformatic),
     BENCH_EVENTS (default 50000)
Writes bench/results/kafka-clients.json.`;

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const clients = (process.env.KAFKA_CLIENTS ?? 'kafkajs,platformatic').split(',') as KafkaClient[];
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const BATCH = 500;
const STREAMS = 2_000;

const openBus = (client: KafkaClient, topic: string): EventBus =>
  client === 'kafkajs'
    ? createKafkaEventBus({ brokers, topic, logLevel: 'nothing' })
    : createPlatformaticEventBus({ brokers, topic, logLevel: 'nothing' });

const envelope = (i: number): EventEnvelope => ({
  eventId: `e-${i}`,
  streamId: `bench-${i % STREAMS}`,
  tenantId: 'tenant-bench',
  version: Math.floor(i / STREAMS) + 1,
  globalPosition: i + 1,
  type: 'UserMessageReceived',
  schemaVersion: 1,
  data: { content: 'x'.repeat(300) },
  metadata: {},
  recordedAt: new Date().toISOString(),
  prevHash: '0'.repeat(64),
  hash: '1'.repeat(64),
});

const waitFor = async (what: string, probe: () => boolean, timeoutMs = 120_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const throughput = async (bus: EventBus, runId: string) => {
  const envelopes = Array.from({ length: EVENTS }, (_, i) => envelope(i));
  const publishStart = performance.now();
  for (let i = 0; i < envelopes.length; i += BATCH) await bus.publish(envelopes.slice(i, i + BATCH));
  const publishSeconds = (performance.now() - publishStart) / 1_000;
  let consumed = 0;
  const consumeStart = performance.now();
  const subscription = await bus.subscribe(`bench-read-${runId}`, async () => void consumed++, {
    fromBeginning: true,
  });
  await waitFor('every event consumed', () => consumed >= EVENTS);
  const consumeSeconds = (performance.now() - consumeStart) / 1_000;
  await subscription.stop();
  return {
    publishedPerSec: Math.round(EVENTS / publishSeconds),
    consumedPerSec: Math.round(EVENTS / consumeSeconds),
  };
};

/** A member whose callbacks track what it owns, as the orchestrator's would. */
const rebalance = async (bus: EventBus, runId: string) => {
  const group = `bench-group-${runId}`;
  const owned = new Map<number, Set<number>>();
  const join = async (id: number): Promise<Subscription> => {
    owned.set(id, new Set());
    return bus.subscribe(group, async () => undefined, {
      onAssigned: (partitions) => partitions.forEach((p) => owned.get(id)?.add(p)),
      onRevoked: (partitions) => partitions.forEach((p) => owned.get(id)?.delete(p)),
    });
  };
  const covered = (ids: readonly number[]) => () => {
    const all = ids.flatMap((id) => [...(owned.get(id) ?? [])]);
    return (
      all.length === DEFAULT_PARTITIONS &&
      new Set(all).size === DEFAULT_PARTITIONS &&
      ids.every((id) => (owned.get(id)?.size ?? 0) > 0)
    );
  };
  const a = await join(1);
  const b = await join(2);
  await waitFor('two members', covered([1, 2]));
  const joinStart = performance.now();
  const c = await join(3);
  await waitFor('three members', covered([1, 2, 3]));
  const joinMs = Math.round(performance.now() - joinStart);
  const leaveStart = performance.now();
  await a.stop();
  owned.delete(1);
  await waitFor('two members after a leave', covered([2, 3]));
  const leaveMs = Math.round(performance.now() - leaveStart);
  await Promise.all([b.stop(), c.stop()]);
  return { joinRebalanceMs: joinMs, leaveRebalanceMs: leaveMs };
};

export default async function kafkaClientsBench(): Promise<void> {
  await requireKafka(brokers, 'the Kafka clients benchmark');
  const results: Record<string, unknown>[] = [];
  for (const client of clients) {
    const runId = `${client}-${Date.now().toString(36)}`;
    const topic = `agentledger.bench-clients.${runId}`;
    await ensureKafkaTopic({ brokers, topic, partitions: DEFAULT_PARTITIONS, logLevel: 'nothing' });
    const bus = openBus(client, topic);
    try {
      const rates = await throughput(bus, runId);
      const times = await rebalance(bus, runId);
      const result = { client, events: EVENTS, ...rates, ...times };
      console.log(JSON.stringify(result));
      results.push(result);
    } finally {
      await bus.close();
    }
  }
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(
    new URL('./results/kafka-clients.json', import.meta.url),
    `${JSON.stringify({ at: new Date().toISOString(), brokers, results }, null, 2)}\n`,
  );
}
