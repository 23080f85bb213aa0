/**
 * A relay in its own process, for the crash tests: `node --conditions=@agentledger/source
 * relay-process.ts '<json config>'`. Prints one JSON line per step (`leader`, `published`,
 * `checkpoint`) so a test can SIGKILL it at a known point; SIGTERM stops it cleanly.
 */
import pg from 'pg';
import { createKafkaEventBus } from '../../kafka/kafka-event-bus.ts';
import { createPostgresEventStore } from '../../postgres/postgres-event-store.ts';
import { createOutboxRelay } from '../outbox-relay.ts';
import { createPostgresGapResolver } from '../position-gaps.ts';
import { createAdvisoryLockLeadership } from '../relay-leadership.ts';

type Config = Readonly<{
  databaseUrl: string;
  brokers: string[];
  topic: string;
  lockKey: string;
  batchSize: number;
  /** This batch (1-based), once acknowledged by the broker, waits a minute before its checkpoint: the window to kill in. */
  stallAtBatch?: number;
}>;

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const report = (event: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ event, pid: process.pid, ...fields })}\n`);
};

const store = await createPostgresEventStore({ connectionString: config.databaseUrl, maxConnections: 4 });
const bus = createKafkaEventBus({ brokers: config.brokers, topic: config.topic });
const leadership = createAdvisoryLockLeadership({
  lockKey: config.lockKey,
  connect: async () => {
    const client = new pg.Client({ connectionString: config.databaseUrl });
    await client.connect();
    return client;
  },
});
let leader = false;
let batches = 0;
const relay = createOutboxRelay({
  store,
  bus,
  leadership,
  gaps: createPostgresGapResolver((text, values) => store.pool.query(text, values)),
  batchSize: config.batchSize,
  standbyPollMs: 200,
  onPublished: async (batch) => {
    if (!leader) report('leader');
    leader = true;
    batches++;
    report('published', { first: batch[0]?.globalPosition, last: batch.at(-1)?.globalPosition });
    if (batches === config.stallAtBatch) await new Promise((resolve) => setTimeout(resolve, 60_000));
  },
});
relay.start();
report('started');

process.on('SIGTERM', () => {
  void (async () => {
    await relay.stop();
    await bus.close();
    await store.close();
    report('stopped');
    process.exit(0);
  })();
});
