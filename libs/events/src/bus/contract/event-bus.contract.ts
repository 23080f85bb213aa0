import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../envelope.ts';
import { partitionKeyOf, type Delivery, type EventBus, type Subscription } from '../../bus.ts';
import { partitionForKey } from '../murmur2.ts';

/** A bus on a fresh topic (or a fresh in-process bus) with `partitions` partitions. */
export type BusFixture = Readonly<{
  bus: EventBus;
  partitions: number;
  /** A group id no other test uses. */
  groupId: (label: string) => string;
  close: () => Promise<void>;
  /**
   * A partition may be assigned to a new member before its previous owner has seen it revoked:
   * Kafka's members learn of a rebalance at their next heartbeat, and one too starved to rejoin
   * in time is left out and told later (what keeps work single then is the session lease, not the
   * partition). The contract then asks only that every hand-over ends with one owner per
   * partition; without it, no partition ever has two owners at once.
   */
  handoverOverlaps?: boolean;
}>;

export const testEnvelope = (streamId: string, version: number, globalPosition = version): EventEnvelope => ({
  eventId: randomUUID(),
  streamId,
  tenantId: 'tenant-a',
  version,
  globalPosition,
  type: 'UserMessageReceived',
  schemaVersion: 1,
  data: { content: `message ${version}` },
  metadata: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  recordedAt: new Date().toISOString(),
  prevHash: '0'.repeat(64),
  hash: '1'.repeat(64),
});

/** Polls until `probe` returns true (the contract stays free of workspace imports). */
const eventually = async (
  what: string,
  probe: () => boolean | undefined,
  { timeoutMs = 30_000 }: { timeoutMs?: number } = {},
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

const streams = (count: number, events: number): EventEnvelope[] => {
  const result: EventEnvelope[] = [];
  for (let version = 1; version <= events; version++) {
    for (let s = 0; s < count; s++) result.push(testEnvelope(`session-s${s}`, version, result.length + 1));
  }
  return result;
};

const versionsByStream = (deliveries: readonly Delivery[]): Map<string, number[]> => {
  const byStream = new Map<string, number[]>();
  for (const { envelope } of deliveries) {
    byStream.set(envelope.streamId, [...(byStream.get(envelope.streamId) ?? []), envelope.version]);
  }
  return byStream;
};

/** Watches one group member: its deliveries and its assignment as the callbacks report it. */
const member = () => {
  const state = {
    deliveries: [] as Delivery[],
    owned: new Set<number>(),
    assignedCalls: 0,
    revoked: [] as number[],
  };
  return {
    state,
    handler: async (delivery: Delivery) => void state.deliveries.push(delivery),
    options: (owners: Map<number, object>, violations: string[]) => ({
      fromBeginning: true,
      onAssigned: (partitions: readonly number[]) => {
        state.assignedCalls++;
        for (const p of partitions) {
          const owner = owners.get(p);
          if (owner && owner !== state)
            violations.push(`partition ${p} assigned while owned by another member`);
          owners.set(p, state);
          state.owned.add(p);
        }
      },
      onRevoked: (partitions: readonly number[]) => {
        for (const p of partitions) {
          if (owners.get(p) === state) owners.delete(p);
          state.owned.delete(p);
          state.revoked.push(p);
        }
      },
    }),
  };
};

/**
 * The `EventBus` contract: every adapter (in-process, Kafka) passes it. `open` gives a fresh bus
 * or topic per test.
 */
export const eventBusContract = (name: string, open: () => Promise<BusFixture>): void => {
  describe(`EventBus contract: ${name}`, () => {
    let fixture: BusFixture | undefined;
    const subscriptions: Subscription[] = [];
    const start = async () => (fixture = await open());

    afterEach(async () => {
      await Promise.all(subscriptions.splice(0).map((subscription) => subscription.stop()));
      await fixture?.close();
      fixture = undefined;
    });

    it('delivers every envelope intact, each stream in version order, on the partition murmur2 picks', async () => {
      const { bus, partitions, groupId } = await start();
      const published = streams(20, 10);
      for (let i = 0; i < published.length; i += 50) await bus.publish(published.slice(i, i + 50));
      const deliveries: Delivery[] = [];
      subscriptions.push(
        await bus.subscribe(groupId('all'), async (d) => void deliveries.push(d), { fromBeginning: true }),
      );
      await eventually('every envelope', () => (deliveries.length >= published.length ? true : undefined));
      expect(deliveries).toHaveLength(published.length);
      for (const versions of versionsByStream(deliveries).values()) {
        expect(versions).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      }
      for (const delivery of deliveries) {
        expect(delivery.key).toBe(partitionKeyOf(delivery.envelope));
        expect(delivery.partition).toBe(partitionForKey(delivery.key, partitions));
      }
      const byId = new Map(published.map((envelope) => [envelope.eventId, envelope]));
      for (const { envelope } of deliveries) expect(envelope).toEqual(byId.get(envelope.eventId));
    });

    it("carries each message's traceparent header: the publisher's choice, else the event's", async () => {
      const { bus, groupId } = await start();
      const [relayed, plain, untraced] = streams(3, 1) as [EventEnvelope, EventEnvelope, EventEnvelope];
      const withoutTrace = { ...untraced, metadata: {} };
      const publishSpan = '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01';
      await bus.publish([relayed, plain, withoutTrace], {
        traceparentOf: (envelope) => (envelope.eventId === relayed.eventId ? publishSpan : undefined),
      });
      const deliveries: Delivery[] = [];
      subscriptions.push(
        await bus.subscribe(groupId('trace'), async (d) => void deliveries.push(d), { fromBeginning: true }),
      );
      await eventually('three envelopes', () => (deliveries.length >= 3 ? true : undefined));
      const traceOf = new Map(deliveries.map((d) => [d.envelope.eventId, d.traceparent]));
      expect(traceOf.get(relayed.eventId)).toBe(publishSpan);
      expect(traceOf.get(plain.eventId)).toBe(plain.metadata.traceparent);
      expect(traceOf.get(withoutTrace.eventId)).toBeUndefined();
      // The envelope itself is never changed: its metadata (hashed) keeps the event's own traceparent.
      expect(deliveries.find((d) => d.envelope.eventId === relayed.eventId)?.envelope).toEqual(relayed);
    });

    it('redelivers a delivery whose handler threw, holding back the rest of its partition', async () => {
      const { bus, groupId } = await start();
      await bus.publish(Array.from({ length: 5 }, (_, i) => testEnvelope('session-retry', i + 1)));
      const seen: number[] = [];
      let failed = false;
      const handler = async ({ envelope }: Delivery) => {
        seen.push(envelope.version);
        if (envelope.version === 3 && !failed) {
          failed = true;
          throw new Error('transient');
        }
      };
      subscriptions.push(
        await bus.subscribe(groupId('retry'), handler, { fromBeginning: true, retryDelayMs: 50 }),
      );
      await eventually('all five handled', () => (seen.length >= 6 ? true : undefined));
      expect(seen).toEqual([1, 2, 3, 3, 4, 5]);
    });

    it('commits only handled offsets: the next member of the group resumes at the first unhandled one', async () => {
      const { bus, groupId } = await start();
      await bus.publish(Array.from({ length: 10 }, (_, i) => testEnvelope('session-resume', i + 1)));
      const group = groupId('resume');
      const first: number[] = [];
      const stuck = await bus.subscribe(
        group,
        async ({ envelope }) => {
          if (envelope.version === 5) throw new Error('cannot handle 5 yet');
          first.push(envelope.version);
        },
        { fromBeginning: true, retryDelayMs: 20 },
      );
      await eventually('four handled', () => (first.length >= 4 ? true : undefined));
      await stuck.stop();
      const second: number[] = [];
      subscriptions.push(
        await bus.subscribe(group, async ({ envelope }) => void second.push(envelope.version), {
          fromBeginning: true,
        }),
      );
      await eventually('the rest', () => (second.length >= 6 ? true : undefined));
      expect(first).toEqual([1, 2, 3, 4]);
      expect(second).toEqual([5, 6, 7, 8, 9, 10]);
    });

    it('pauses deliveries until resumed', async () => {
      const { bus, groupId } = await start();
      const seen: number[] = [];
      const subscription = await bus.subscribe(
        groupId('pause'),
        async ({ envelope }) => void seen.push(envelope.version),
        { fromBeginning: true },
      );
      subscriptions.push(subscription);
      await bus.publish([testEnvelope('session-pause', 1)]);
      await eventually('the first delivery', () => (seen.length === 1 ? true : undefined));
      subscription.pause();
      expect(subscription.isPaused()).toBe(true);
      await bus.publish(Array.from({ length: 4 }, (_, i) => testEnvelope('session-pause', i + 2)));
      // Quiet window: deliveries would arrive within milliseconds if the pause did not hold.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(seen).toEqual([1]);
      subscription.resume();
      await eventually('the rest after resume', () => (seen.length === 5 ? true : undefined));
      expect(seen).toEqual([1, 2, 3, 4, 5]);
    });

    it('gives each partition one owner, rebalances as members join and leave, and fires the callbacks', async () => {
      const { bus, partitions, groupId, handoverOverlaps = false } = await start();
      const group = groupId('members');
      const owners = new Map<number, object>();
      const violations: string[] = [];
      const members = [member(), member(), member()];
      const subscribeMember = async (m: ReturnType<typeof member>) => {
        const subscription = await bus.subscribe(group, m.handler, m.options(owners, violations));
        subscriptions.push(subscription);
        return subscription;
      };
      const covered = (active: ReturnType<typeof member>[]) => () => {
        const owned = active.flatMap((m) => [...m.state.owned]);
        return owned.length === partitions &&
          new Set(owned).size === partitions &&
          active.every((m) => m.state.owned.size > 0)
          ? true
          : undefined;
      };

      const [a, b, c] = members as [
        ReturnType<typeof member>,
        ReturnType<typeof member>,
        ReturnType<typeof member>,
      ];
      const leaving = await subscribeMember(a);
      await subscribeMember(b);
      await eventually('two members to split the partitions', covered([a, b]), { timeoutMs: 45_000 });
      await subscribeMember(c);
      await eventually('three members to split the partitions', covered([a, b, c]), { timeoutMs: 45_000 });

      const published = streams(30, 2);
      await bus.publish(published);
      await eventually('every envelope once the group is stable', () =>
        members.reduce((n, m) => n + m.state.deliveries.length, 0) >= published.length ? true : undefined,
      );
      for (const m of members)
        for (const d of m.state.deliveries) expect(m.state.owned.has(d.partition)).toBe(true);

      const handedOver = [...a.state.owned];
      await leaving.stop();
      subscriptions.splice(subscriptions.indexOf(leaving), 1);
      expect(a.state.owned.size).toBe(0);
      expect(a.state.revoked).toEqual(expect.arrayContaining(handedOver));
      await eventually('the remaining two to take over', covered([b, c]), { timeoutMs: 45_000 });
      // Overlaps an adapter may have (see `handoverOverlaps`) ended: `covered` found one owner each.
      expect(handoverOverlaps ? [] : violations).toEqual([]);
      for (const m of members) expect(m.state.assignedCalls).toBeGreaterThan(0);
    });
  });
};
