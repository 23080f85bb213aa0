import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import pg from 'pg';
import { uuidv7 } from '@agentledger/events';
import {
  createAdvisoryLockLeadership,
  createOutboxRelay,
  createPostgresGapResolver,
  type Delivery,
} from '@agentledger/events/bus';
import { createKafkaClient, createKafkaEventBus, ensureKafkaTopic } from '@agentledger/events/kafka';
import {
  EVENTS_CHANNEL,
  createPostgresEventStore,
  type PostgresEventStore,
} from '@agentledger/events/postgres';
import { percentile } from './stats.ts';
import { requireKafka } from './kafka-preflight.ts';

/**
 * `npm run bench -- relay`: commit-to-consume latency through the whole pipeline (append to
 * Postgres → relay → Kafka → a consumer group member) at fixed offered loads, then the highest
 * sustained throughput with appenders running flat out. Commit time is when `append` resolves,
 * consume time when the consumer's handler first sees the event; one process, one clock.
 * Writes bench/results/relay.json.
 */

type Result = Readonly<{
  phase: string;
  offeredPerSec: number | 'max';
  eventsPerAppend: number;
  events: number;
  committedPerSec: number;
  consumedPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The relay's share: commit to the broker's acknowledgement. */
  relayP50Ms: number;
  relayP99Ms: number;
  missing: number;
}>;

export const usage = `usage: npm run bench -- relay
Commit-to-consume latency through append -> relay -> Kafka -> a consumer group member at fixed
offered loads, then the highest sustained throughput. No options.
env: DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/postgres),
     KAFKA_BROKERS (default 127.0.0.1:9092)
Writes bench/results/relay.json.`;

const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const STREAMS = 2_000;
const MAX_IN_FLIGHT = 16;

const round = (value: number): number => Math.round(value * 10) / 10;
const maxOf = (values: Iterable<number>): number => {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) if (value > max) max = value;
  return max;
};
const minOf = (values: Iterable<number>): number => -maxOf([...values].map((value) => -value));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** When each event's append committed and when the consumer first saw it. */
const committed = new Map<string, number>();
const consumed = new Map<string, number>();
const published = new Map<string, number>();
const onDelivery = async ({ envelope }: Delivery): Promise<void> => {
  if (!consumed.has(envelope.eventId)) consumed.set(envelope.eventId, performance.now());
};

const appendBatch = async (
  store: PostgresEventStore,
  prefix: string,
  n: number,
  size: number,
): Promise<string[]> => {
  const events = Array.from({ length: size }, () => ({
    eventId: uuidv7(),
    type: 'AgentMessageEmitted',
    data: { source: 'bench_agent', content: 'x'.repeat(200) },
  }));
  await store.append(`session-${prefix}-${n % STREAMS}`, events, {
    tenantId: 'bench',
    expectedVersion: 'any',
  });
  const at = performance.now();
  for (const event of events) committed.set(event.eventId, at);
  return events.map((event) => event.eventId);
};

/** Open loop: `rate` events/s in appends of `size`, paced by the clock, at most MAX_IN_FLIGHT at once. */
const offer = async (
  store: PostgresEventStore,
  prefix: string,
  rate: number,
  seconds: number,
  size: number,
) => {
  const ids: string[] = [];
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  let issued = 0;
  let n = 0;
  for (let elapsed = 0; elapsed < seconds * 1_000; elapsed = performance.now() - started) {
    const due = Math.floor((rate * elapsed) / 1_000);
    while (issued + size <= due && pending.size < MAX_IN_FLIGHT) {
      issued += size;
      const work = appendBatch(store, prefix, n++, size).then((batch) => void ids.push(...batch));
      pending.add(work);
      const settle = (): void => void pending.delete(work);
      work.then(settle, settle);
    }
    await sleep(2);
  }
  await Promise.all(pending);
  return { ids, seconds: (performance.now() - started) / 1_000 };
};

/** Closed loop: `workers` appenders back to back for `seconds`. */
const flatOut = async (
  store: PostgresEventStore,
  prefix: string,
  workers: number,
  seconds: number,
  size: number,
) => {
  const ids: string[] = [];
  const started = performance.now();
  let n = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() - started < seconds * 1_000)
        ids.push(...(await appendBatch(store, prefix, n++, size)));
    }),
  );
  return { ids, seconds: (performance.now() - started) / 1_000 };
};

const measure = async (
  phase: string,
  offeredPerSec: number | 'max',
  eventsPerAppend: number,
  run: () => Promise<{ ids: string[]; seconds: number }>,
): Promise<Result> => {
  const { ids, seconds } = await run();
  const deadline = Date.now() + 60_000;
  while (ids.some((id) => !consumed.has(id)) && Date.now() < deadline) await sleep(50);
  const latencies = ids
    .filter((id) => consumed.has(id))
    .map((id) => Math.max(0, consumed.get(id)! - committed.get(id)!));
  const sorted = latencies.sort((a, b) => a - b);
  const relayLatencies = ids
    .filter((id) => published.has(id))
    .map((id) => Math.max(0, published.get(id)! - committed.get(id)!))
    .sort((a, b) => a - b);
  const firstCommit = minOf(ids.map((id) => committed.get(id)!));
  const lastConsume = maxOf(ids.map((id) => consumed.get(id) ?? 0));
  const result: Result = {
    phase,
    offeredPerSec,
    eventsPerAppend,
    events: ids.length,
    committedPerSec: Math.round(ids.length / seconds),
    consumedPerSec: Math.round(ids.length / ((lastConsume - firstCommit) / 1_000)),
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
    relayP50Ms: round(percentile(relayLatencies, 50)),
    relayP99Ms: round(percentile(relayLatencies, 99)),
    missing: ids.length - latencies.length,
  };
  console.log(`  ${phase}: ${JSON.stringify(result)}`);
  return result;
};

/** Throughput of relay → Kafka → consumer alone, from a backlog: latencies here mean nothing. */
const drain = async (ids: readonly string[], started: number, appendSeconds: number): Promise<Result> => {
  const deadline = Date.now() + 120_000;
  while (ids.some((id) => !consumed.has(id)) && Date.now() < deadline) await sleep(50);
  const done = maxOf(ids.map((id) => consumed.get(id) ?? 0));
  const lastPublish = maxOf(ids.map((id) => published.get(id) ?? 0));
  const result: Result = {
    phase: 'relay drain',
    offeredPerSec: 'max',
    eventsPerAppend: 10,
    events: ids.length,
    committedPerSec: Math.round(ids.length / appendSeconds),
    consumedPerSec: Math.round(ids.length / ((done - started) / 1_000)),
    p50Ms: Number.NaN,
    p90Ms: Number.NaN,
    p99Ms: Number.NaN,
    maxMs: Number.NaN,
    relayP50Ms: Number.NaN,
    relayP99Ms: Number.NaN,
    missing: ids.filter((id) => !consumed.has(id)).length,
  };
  console.log(
    `  relay drain: published ${Math.round(ids.length / ((lastPublish - started) / 1_000))}/s, consumed ${result.consumedPerSec}/s`,
  );
  return result;
};

export default async function relayBench(): Promise<void> {
  await requireKafka(brokers, 'the relay benchmark');
  const runId = Date.now().toString(36);
  const database = `al_bench_relay_${runId}`;
  const topic = `agentledger.bench-relay.${runId}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${database}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const store = await createPostgresEventStore({
    connectionString: url.toString(),
    migrate: true,
    maxConnections: 16,
  });
  await ensureKafkaTopic({ brokers, topic, partitions: 12 });
  const bus = createKafkaEventBus({ brokers, topic });
  const makeRelay = () =>
    createOutboxRelay({
      store,
      bus,
      batchSize: 1_000,
      onPublished: (batch) => {
        const at = performance.now();
        for (const event of batch) published.set(event.eventId, at);
      },
      gaps: createPostgresGapResolver((text, values) => store.pool.query(text, values)),
      leadership: createAdvisoryLockLeadership({
        connect: async () => {
          const client = new pg.Client({ connectionString: url.toString() });
          await client.connect();
          return client;
        },
      }),
    });
  let relay = makeRelay();
  const subscription = await bus.subscribe(`bench-relay-${runId}`, onDelivery, { fromBeginning: true });
  // Wake the relay on the store's after-commit notification instead of waiting for its next poll.
  const listener = new pg.Client({ connectionString: url.toString() });
  await listener.connect();
  listener.on('notification', () => relay.wake());
  await listener.query(`listen ${EVENTS_CHANNEL}`);
  relay.start();
  const results: Result[] = [];
  try {
    console.log('warm-up (3 s at 1,000 events/s)…');
    await measure('warm-up', 1_000, 1, () => offer(store, 'warmup', 1_000, 3, 1));
    console.log('offered load…');
    results.push(await measure('1k/s', 1_000, 1, () => offer(store, 'load1k', 1_000, 20, 1)));
    results.push(await measure('10k/s', 10_000, 5, () => offer(store, 'load10k', 10_000, 20, 5)));
    console.log('maximum sustained (16 appenders flat out, 10 events per append)…');
    results.push(await measure('max', 'max', 10, () => flatOut(store, 'max', 16, 15, 10)));
    console.log('relay drain: a backlog appended with the relay stopped, then published and consumed…');
    await relay.stop();
    const backlog = await flatOut(store, 'drain', 16, 10, 10);
    const drainStart = performance.now();
    relay = makeRelay();
    relay.start();
    results.push(await drain(backlog.ids, drainStart, backlog.seconds));
  } finally {
    await subscription.stop();
    await listener.end();
    await relay.stop();
    await bus.close();
    await store.close();
    await admin.query(`drop database if exists "${database}" with (force)`);
    await admin.end();
    const kafkaAdmin = createKafkaClient({ brokers }).admin();
    await kafkaAdmin.connect();
    await kafkaAdmin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await kafkaAdmin.disconnect();
  }
  console.table(results);
  const output = {
    benchmark: 'relay',
    description: 'commit-to-consume latency: Postgres append → outbox relay → Kafka → consumer group member',
    recordedAt: new Date().toISOString(),
    machine: {
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model,
      node: process.version,
      loadAverage1m: round(loadavg()[0] ?? 0),
    },
    settings: {
      partitions: 12,
      streams: STREAMS,
      relayBatchSize: 1_000,
      relayIdlePollMs: 20,
      relayWokenByNotify: true,
      consumerConcurrency: 12,
      maxInFlightAppends: MAX_IN_FLIGHT,
    },
    results,
  };
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(new URL('./results/relay.json', import.meta.url), `${JSON.stringify(output, null, 2)}\n`);
  console.log('written bench/results/relay.json');
}
