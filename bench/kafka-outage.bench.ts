import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { EventBus } from '@agentledger/events/bus';
import { createKafkaEventBus, ensureKafkaTopic } from '@agentledger/events/kafka';
import { createPlatformaticEventBus } from '@agentledger/events/kafka-platformatic';
import type { EventEnvelope } from '@agentledger/events';
import type { KafkaClient } from './kafka-preflight.ts';

/**
 * `npm run bench -- kafka-outage`: how each Kafka `EventBus` adapter lives through its broker
 * stopping for 10 s. Needs a private broker that may be stopped: OUTAGE_KAFKA_PORT and
 * OUTAGE_KAFKA_DIR as given to `scripts/kafka.sh up` (the shared broker is never touched; without
 * them the benchmark is skipped). A publisher retries each failed batch (as the relay does) while
 * one group member consumes; reported: failed publishes, how long the broker took to start again,
 * the longest pause between successful publishes and between deliveries (outage included), the
 * seconds from the broker being up to the first publish and delivery, and events missing and
 * delivered twice at the end.
 * Writes bench/results/kafka-outage.json.
 */

export const usage = `usage: npm run bench -- kafka-outage
Each Kafka EventBus adapter through its broker stopping for OUTAGE_MS: failed publishes, pauses,
recovery times, events missing or delivered twice. No options; skipped without a private broker.
env: OUTAGE_KAFKA_PORT and OUTAGE_KAFKA_DIR (a broker started with scripts/kafka.sh up, which this
     benchmark stops and starts), KAFKA_CLIENTS (default kafkajs,platformatic), OUTAGE_MS
Writes bench/results/kafka-outage.json.`;

const port = process.env.OUTAGE_KAFKA_PORT;
const dir = process.env.OUTAGE_KAFKA_DIR;
const clients = (process.env.KAFKA_CLIENTS ?? 'kafkajs,platformatic').split(',') as KafkaClient[];
const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 10_000);
const run = promisify(execFile);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const broker = (action: 'up' | 'down') =>
  run('bash', [new URL('../scripts/kafka.sh', import.meta.url).pathname, action], {
    env: {
      ...process.env,
      KAFKA_PORT: port,
      KAFKA_CONTROLLER_PORT: String(Number(port) + 1),
      KAFKA_DIR: dir,
    },
  });

const envelope = (i: number): EventEnvelope => ({
  eventId: `e-${i}`,
  streamId: `outage-${i % 200}`,
  tenantId: 'tenant-bench',
  version: Math.floor(i / 200) + 1,
  globalPosition: i + 1,
  type: 'UserMessageReceived',
  schemaVersion: 1,
  data: { content: 'outage' },
  metadata: {},
  recordedAt: new Date().toISOString(),
  prevHash: '0'.repeat(64),
  hash: '1'.repeat(64),
});

const outage = async (client: KafkaClient) => {
  const brokers = [`127.0.0.1:${port}`];
  const runId = `${client}-${Date.now().toString(36)}`;
  const topic = `outage.${runId}`;
  await ensureKafkaTopic({ brokers, topic, partitions: 6, logLevel: 'nothing' });
  const bus: EventBus =
    client === 'kafkajs'
      ? createKafkaEventBus({ brokers, topic, logLevel: 'nothing' })
      : createPlatformaticEventBus({ brokers, topic, logLevel: 'nothing' });
  const seen = new Map<string, number>();
  const deliveredAt: number[] = [];
  await bus.subscribe(
    `outage-${runId}`,
    async ({ envelope: e }) => {
      seen.set(e.eventId, (seen.get(e.eventId) ?? 0) + 1);
      deliveredAt.push(Date.now());
    },
    { fromBeginning: true },
  );
  let published = 0;
  let failures = 0;
  const publishedAt: number[] = [];
  let publishing = true;
  const publisher = (async () => {
    while (publishing) {
      const batch = Array.from({ length: 10 }, (_, i) => envelope(published + i));
      try {
        await bus.publish(batch);
        published += batch.length;
        publishedAt.push(Date.now());
      } catch {
        failures++;
        await sleep(200);
      }
      await sleep(50);
    }
  })();
  await sleep(3_000);
  await broker('down');
  await sleep(OUTAGE_MS);
  const restartAt = Date.now();
  await broker('up');
  const upAt = Date.now();
  await sleep(15_000);
  publishing = false;
  await publisher;
  const deadline = Date.now() + 60_000;
  while (seen.size < published && Date.now() < deadline) await sleep(100);
  await bus.close();
  const seconds = (ms: number) => Math.round(ms / 100) / 10;
  const firstAfter = (times: number[]) => {
    const t = times.find((time) => time >= upAt);
    return t === undefined ? null : seconds(t - upAt);
  };
  const longestGap = (times: number[]) =>
    seconds(Math.max(0, ...times.slice(1).map((t, i) => t - times[i]!)));
  return {
    client,
    outageMs: OUTAGE_MS,
    published,
    failedPublishes: failures,
    brokerStartSeconds: seconds(upAt - restartAt),
    publishGapSeconds: longestGap(publishedAt),
    deliveryGapSeconds: longestGap(deliveredAt),
    publishSecondsAfterRestart: firstAfter(publishedAt),
    deliverySecondsAfterRestart: firstAfter(deliveredAt),
    missing: Array.from({ length: published }, (_, i) => `e-${i}`).filter((id) => !seen.has(id)).length,
    deliveredTwice: [...seen.values()].filter((n) => n > 1).length,
  };
};

export default async function kafkaOutageBench(): Promise<void> {
  if (!port || !dir) {
    console.log('skipped: set OUTAGE_KAFKA_PORT and OUTAGE_KAFKA_DIR to a private broker (scripts/kafka.sh)');
    return;
  }
  const results = [];
  for (const client of clients) {
    const result = await outage(client);
    console.log(JSON.stringify(result));
    results.push(result);
  }
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(
    new URL('./results/kafka-outage.json', import.meta.url),
    `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`,
  );
}
