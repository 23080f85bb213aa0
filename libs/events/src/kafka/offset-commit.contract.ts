import { describe, expect, it } from 'vitest';
import type { EventBus } from '../bus.ts';
import { testEnvelope } from '../bus/contract/event-bus.contract.ts';
import { createKafkaClient } from './kafka-client.ts';
import { ensureKafkaTopic } from './kafka-topics.ts';

type CommitContractOptions = Readonly<{
  brokers: string[];
  /** Topics to delete after the file's tests. */
  topics: string[];
  runId: string;
  /** A bus on `topic` whose subscriptions commit within `commitIntervalMs`. */
  bus: (topic: string, commitIntervalMs: number) => EventBus;
}>;

/**
 * Polls `probe` until it holds (30 s at most). Local, as in the bus contract: this library is built
 * before the testing one, which depends on it.
 */
const until = async (
  what: string,
  probe: () => boolean | Promise<boolean>,
  intervalMs = 50,
): Promise<void> => {
  const deadline = Date.now() + 30_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};

/**
 * What a Kafka bus adapter promises about offset commits, read back from the broker: a handled
 * offset is committed within the interval while the subscription runs (not after every batch),
 * and at stop however long the interval.
 */
export const offsetCommitContract = (
  label: string,
  { brokers, topics, runId, bus: busOf }: CommitContractOptions,
): void => {
  describe(`Kafka bus (${label}): offset commits`, () => {
    const committedOf = async (groupId: string, topic: string): Promise<string | undefined> => {
      const admin = createKafkaClient({ brokers, logLevel: 'nothing' }).admin();
      await admin.connect();
      try {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return offsets?.partitions.find((p) => p.partition === 0)?.offset;
      } finally {
        await admin.disconnect();
      }
    };
    const oneTopic = async (name: string): Promise<string> => {
      const topic = `bus-commits-${label}-${name}.${runId}`;
      topics.push(topic);
      await ensureKafkaTopic({ brokers, topic, partitions: 1, logLevel: 'nothing' });
      return topic;
    };

    it('commits what was handled once within commitIntervalMs, not after each batch, while it runs', async () => {
      const topic = await oneTopic('interval');
      const bus = busOf(topic, 4_000);
      const groupId = `bus-commits-${label}-interval-${runId}`;
      try {
        const handled: number[] = [];
        let firstHandledAt = 0;
        await bus.subscribe(
          groupId,
          async ({ envelope }) => {
            firstHandledAt ||= Date.now();
            handled.push(envelope.version);
          },
          { fromBeginning: true },
        );
        // Three publishes, three batches: before, each was committed as it ended.
        for (const version of [1, 2, 3]) {
          await bus.publish([testEnvelope('session-commits', version)]);
          await until(`version ${version} handled`, () => handled.length === version);
        }
        // Nothing committed until the interval after the first has passed (a loaded machine may take
        // that long to get here; then only the commit below is checked).
        const early = await committedOf(groupId, topic);
        const beforeInterval = Date.now() - firstHandledAt < 3_500;
        expect(beforeInterval ? early : '-1').toBe('-1');
        await until('the commit of all three', async () => (await committedOf(groupId, topic)) === '3', 200);
        expect(handled).toEqual([1, 2, 3]);
      } finally {
        await bus.close();
      }
    });

    it('commits what was handled at stop, however long its interval', async () => {
      const topic = await oneTopic('stop');
      const bus = busOf(topic, 600_000);
      const groupId = `bus-commits-${label}-stop-${runId}`;
      try {
        await bus.publish([1, 2, 3].map((version) => testEnvelope('session-commits-stop', version)));
        const handled: number[] = [];
        const subscription = await bus.subscribe(
          groupId,
          async ({ envelope }) => void handled.push(envelope.version),
          { fromBeginning: true },
        );
        await until('three handled', () => handled.length === 3);
        await subscription.stop();
        expect(await committedOf(groupId, topic)).toBe('3');
      } finally {
        await bus.close();
      }
    });
  });
};
