import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope, NewEvent } from '../envelope.ts';
import { AgentLedgerError, InvalidEvent, StreamTenantMismatch, StreamVersionConflict } from '../errors.ts';
import { computeEventHash, GENESIS_HASH } from '../hash.ts';
import { uuidv7 } from '../ids.ts';
import { readLogToHead } from '../read-log.ts';
import type { AppendResult, EventStore, Page } from '../store.ts';
import type { Upcaster } from '../upcasting.ts';
import { eventImportCases } from './event-import.contract.ts';

/** What an adapter gives the contract suite: store views over one database, opened once per file. */
export type ContractHarness = Readonly<{
  store: (options?: { upcasters?: readonly Upcaster[] }) => EventStore;
  /**
   * Runs SQL behind the store's back in one transaction, rolled back when `work` throws (SQL
   * adapters; absent in memory).
   */
  transaction?: <T>(work: (query: SqlQuery) => Promise<T>) => Promise<T>;
  close: () => Promise<void>;
}>;

export type SqlQuery = (text: string, params?: readonly unknown[]) => Promise<unknown>;

/**
 * Overwrites a stored event's data the only way left once the table is append-only: the table's
 * owner lifts the guard inside the transaction (EVENT-STORE.md, "Append-only").
 */
const tamper = (query: SqlQuery, streamId: string, version: number, data: unknown): Promise<unknown> =>
  query('ALTER TABLE events DISABLE TRIGGER events_append_only')
    .then(() =>
      query('update events set data = $3::jsonb where stream_id = $1 and version = $2', [
        streamId,
        version,
        JSON.stringify(data),
      ]),
    )
    .then(() => query('ALTER TABLE events ENABLE TRIGGER events_append_only'));

const tenantId = 'tenant-a';
const ev = (type: string, data: unknown = {}, extra: Partial<NewEvent> = {}): NewEvent => ({
  type,
  data,
  ...extra,
});
const streamOf = (label: string): string => `session-${label}-${uuidv7()}`;
const deadline = async (what: string, probe: () => boolean | Promise<boolean>): Promise<void> => {
  const until = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/**
 * One contract for every `EventStore` adapter (in-memory, PGlite, Postgres). `sql: false` leaves
 * out the cases that edit stored rows behind the store's back (an adapter without SQL has none to
 * edit); they are not registered at all rather than skipped.
 */
export const eventStoreContract = (
  name: string,
  open: () => Promise<ContractHarness>,
  { sql = true }: Readonly<{ sql?: boolean }> = {},
): void => {
  // Generous limits: PGlite starts in seconds, and CI machines are busy.
  describe(`EventStore contract: ${name}`, { timeout: 30_000 }, () => {
    let harness: ContractHarness;
    let store: EventStore;
    beforeAll(async () => {
      harness = await open();
      store = harness.store();
    }, 120_000);
    afterAll(async () => {
      await store?.close();
      await harness?.close();
    }, 60_000);

    describe('append and read', () => {
      it('assigns versions 1..n and increasing global positions', async () => {
        const streamId = streamOf('append');
        const result = await store.append(streamId, [ev('A', { n: 1 }), ev('B'), ev('C')], {
          tenantId,
          expectedVersion: 'no_stream',
          metadata: { correlationId: 'c-1' },
        });
        expect(result).toMatchObject({
          streamId,
          versions: [1, 2, 3],
          nextExpectedVersion: 3,
          duplicate: false,
        });
        const [p1 = 0, p2 = 0, p3 = 0] = result.globalPositions;
        expect(p1).toBeGreaterThan(0);
        expect(p2).toBeGreaterThan(p1);
        expect(p3).toBeGreaterThan(p2);
        const events = await store.readStream(streamId, { tenantId });
        expect(events.map((event) => [event.version, event.type])).toEqual([
          [1, 'A'],
          [2, 'B'],
          [3, 'C'],
        ]);
        expect(events[0]).toMatchObject({
          streamId,
          tenantId,
          schemaVersion: 1,
          data: { n: 1 },
          metadata: { correlationId: 'c-1' },
          globalPosition: p1,
          prevHash: GENESIS_HASH,
        });
        expect(new Date(events[0]?.recordedAt ?? '').toISOString()).toBe(events[0]?.recordedAt);
      });

      it('reads a version window with a limit', async () => {
        const streamId = streamOf('window');
        await store.append(
          streamId,
          Array.from({ length: 10 }, (_, index) => ev('N', { index })),
          {
            tenantId,
            expectedVersion: 0,
          },
        );
        const window = await store.readStream(streamId, { tenantId, fromVersion: 3, toVersion: 8, limit: 4 });
        expect(window.map((event) => event.version)).toEqual([3, 4, 5, 6]);
        const tail = await store.readStream(streamId, { tenantId, fromVersion: 9 });
        expect(tail.map((event) => event.version)).toEqual([9, 10]);
        expect(await store.readStream(streamOf('missing'), { tenantId })).toEqual([]);
      });

      it('keeps a given event id and rejects a duplicate one without writing', async () => {
        const streamId = streamOf('ids');
        const eventId = uuidv7();
        await store.append(streamId, [ev('A', {}, { eventId })], { tenantId, expectedVersion: 'no_stream' });
        expect((await store.readStream(streamId, { tenantId }))[0]?.eventId).toBe(eventId);
        await expect(
          store.append(streamId, [ev('B'), ev('C', {}, { eventId })], { tenantId, expectedVersion: 1 }),
        ).rejects.toBeInstanceOf(AgentLedgerError);
        await expect(
          store.append(streamId, [ev('B', {}, { eventId: 'not-a-uuid' })], { tenantId, expectedVersion: 1 }),
        ).rejects.toBeInstanceOf(InvalidEvent);
        expect(await store.readStream(streamId, { tenantId })).toHaveLength(1);
      });
    });

    describe('edge cases', () => {
      it('checks the version of an empty append and writes nothing', async () => {
        const streamId = streamOf('empty-append');
        await store.append(streamId, [ev('A')], { tenantId, expectedVersion: 'no_stream' });
        const result = await store.append(streamId, [], { tenantId, expectedVersion: 1 });
        expect(result).toMatchObject({
          versions: [],
          globalPositions: [],
          nextExpectedVersion: 1,
          duplicate: false,
        });
        await expect(store.append(streamId, [], { tenantId, expectedVersion: 0 })).rejects.toBeInstanceOf(
          StreamVersionConflict,
        );
        expect(await store.readStream(streamId, { tenantId })).toHaveLength(1);
      });

      it('refuses data Postgres cannot store, alike on every adapter', async () => {
        const streamId = streamOf('nul');
        await expect(
          store.append(streamId, [ev('A', { text: 'a\u0000b' })], { tenantId, expectedVersion: 'no_stream' }),
        ).rejects.toBeInstanceOf(InvalidEvent);
        const big = { text: 'line\nbreak \u2028 ü 🙂', n: [1e21, 1e-7, -0, 0.1] };
        await store.append(streamId, [ev('B', big)], { tenantId, expectedVersion: 'no_stream' });
        const [stored] = await store.readStream(streamId, { tenantId });
        expect(stored?.data).toEqual(JSON.parse(JSON.stringify(big)));
        expect((await store.verifyStream(streamId, { tenantId })).valid).toBe(true);
      });
    });

    describe('expected version', () => {
      it('throws StreamVersionConflict and writes nothing on a wrong version', async () => {
        const streamId = streamOf('conflict');
        const newStream = streamOf('new');
        const first = await store.append(streamId, [ev('A'), ev('B')], {
          tenantId,
          expectedVersion: 'no_stream',
        });
        const error = await store
          .append(streamId, [ev('C'), ev('D')], { tenantId, expectedVersion: 1 })
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(StreamVersionConflict);
        expect(error).toMatchObject({
          code: 'STREAM_VERSION_CONFLICT',
          retryable: true,
          expected: 1,
          actual: 2,
        });
        await expect(
          store.append(streamId, [ev('C')], { tenantId, expectedVersion: 'no_stream' }),
        ).rejects.toMatchObject({ expected: 'no_stream', actual: 2 });
        await expect(
          store.append(newStream, [ev('C')], { tenantId, expectedVersion: 3 }),
        ).rejects.toMatchObject({
          actual: 0,
        });
        expect(await store.readStream(streamId, { tenantId })).toHaveLength(2);
        expect(await store.readStream(newStream, { tenantId })).toEqual([]);
        // The global log holds no trace of the refused appends either: once a marker appended after
        // them is visible, anything they had written (at lower positions) would be visible too.
        await store.append(streamId, [ev('marker')], { tenantId, expectedVersion: 2 });
        const after = (first.globalPositions[0] ?? 0) - 1;
        let everywhere: readonly EventEnvelope[] = [];
        await deadline('the marker in the global log', async () => {
          everywhere = await store.readAll({ after });
          return everywhere.some((event) => event.streamId === streamId && event.type === 'marker');
        });
        expect(
          everywhere
            .filter((event) => event.streamId === streamId || event.streamId === newStream)
            .map((event) => [event.streamId, event.type]),
        ).toEqual([
          [streamId, 'A'],
          [streamId, 'B'],
          [streamId, 'marker'],
        ]);
      });

      it("appends at the head with 'any'", async () => {
        const streamId = streamOf('any');
        await store.append(streamId, [ev('A')], { tenantId, expectedVersion: 'any' });
        const result = await store.append(streamId, [ev('B'), ev('C')], { tenantId, expectedVersion: 'any' });
        expect(result.versions).toEqual([2, 3]);
      });

      it('lets exactly one of 50 concurrent appends with the same expected version win', async () => {
        const streamId = streamOf('race');
        await store.append(streamId, [ev('Start')], { tenantId, expectedVersion: 'no_stream' });
        const outcomes = await Promise.allSettled(
          Array.from({ length: 50 }, (_, index) =>
            store.append(streamId, [ev('Race', { index }), ev('Race2', { index })], {
              tenantId,
              expectedVersion: 1,
            }),
          ),
        );
        const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
        const lost = outcomes.filter((outcome) => outcome.status === 'rejected');
        expect(won).toHaveLength(1);
        for (const outcome of lost) expect(outcome.reason).toBeInstanceOf(StreamVersionConflict);
        const events = await store.readStream(streamId, { tenantId });
        expect(events.map((event) => event.version)).toEqual([1, 2, 3]);
        expect((await store.verifyStream(streamId, { tenantId })).valid).toBe(true);
      });

      it("leaves no gaps or duplicates with concurrent 'any' appends", async () => {
        const streamId = streamOf('any-race');
        await Promise.all(
          Array.from({ length: 30 }, (_, index) =>
            store.append(streamId, [ev('X', { index })], { tenantId, expectedVersion: 'any' }),
          ),
        );
        const events = await store.readStream(streamId, { tenantId });
        expect(events.map((event) => event.version)).toEqual(
          Array.from({ length: 30 }, (_, index) => index + 1),
        );
        expect(new Set(events.map((event) => (event.data as { index: number }).index)).size).toBe(30);
        expect((await store.verifyStream(streamId, { tenantId })).valid).toBe(true);
      });
    });

    describe('appends that arrive together (group commit on SQL)', () => {
      it('makes every one of 40 concurrent appends to different streams durable, with its own result', async () => {
        const streams = Array.from({ length: 40 }, (_, index) => streamOf(`group-${index}`));
        const results = await Promise.all(
          streams.map((streamId, index) =>
            store.append(streamId, [ev('G', { index }), ev('H', { index })], {
              tenantId,
              expectedVersion: 'no_stream',
              idempotencyKey: `group-${index}`,
            }),
          ),
        );
        for (const [index, result] of results.entries()) {
          expect(result.streamId).toBe(streams[index]);
          expect(result.versions).toEqual([1, 2]);
          expect(result.duplicate).toBe(false);
        }
        expect(new Set(results.flatMap((result) => result.globalPositions)).size).toBe(80);
        for (const [index, streamId] of streams.entries()) {
          const events = await store.readStream(streamId, { tenantId });
          expect(events.map((event) => [event.type, (event.data as { index: number }).index])).toEqual([
            ['G', index],
            ['H', index],
          ]);
          expect((await store.verifyStream(streamId, { tenantId })).valid).toBe(true);
        }
      });

      it('fails only the conflicting append of a concurrent group', async () => {
        const conflicted = streamOf('group-conflict');
        await store.append(conflicted, [ev('Start')], { tenantId, expectedVersion: 'no_stream' });
        const others = Array.from({ length: 20 }, (_, index) => streamOf(`group-ok-${index}`));
        const outcomes = await Promise.allSettled([
          ...others
            .slice(0, 10)
            .map((streamId) =>
              store.append(streamId, [ev('Ok')], { tenantId, expectedVersion: 'no_stream' }),
            ),
          store.append(conflicted, [ev('Late')], { tenantId, expectedVersion: 5 }),
          store.append(others[0]!, [ev('Again')], { tenantId, expectedVersion: 7 }),
          ...others
            .slice(10)
            .map((streamId) =>
              store.append(streamId, [ev('Ok')], { tenantId, expectedVersion: 'no_stream' }),
            ),
        ]);
        const rejected = outcomes.flatMap((outcome, index) => (outcome.status === 'rejected' ? [index] : []));
        expect(rejected).toEqual([10, 11]);
        const [first, second] = [outcomes[10], outcomes[11]];
        expect(first?.status === 'rejected' && first.reason).toBeInstanceOf(StreamVersionConflict);
        expect(second?.status === 'rejected' && second.reason).toBeInstanceOf(StreamVersionConflict);
        expect((await store.readStream(conflicted, { tenantId })).map((event) => event.type)).toEqual([
          'Start',
        ]);
        for (const streamId of others)
          expect((await store.readStream(streamId, { tenantId })).map((event) => event.type)).toEqual(['Ok']);
        expect((await store.verifyStream(others[0]!, { tenantId })).valid).toBe(true);
      });
    });

    describe('idempotency', () => {
      it('returns the first result for the same key and writes nothing', async () => {
        const streamId = streamOf('idem');
        const first = await store.append(streamId, [ev('A'), ev('B')], {
          tenantId,
          expectedVersion: 'no_stream',
          idempotencyKey: 'k-1',
        });
        const again = await store.append(streamId, [ev('A'), ev('B')], {
          tenantId,
          expectedVersion: 'no_stream',
          idempotencyKey: 'k-1',
        });
        expect(again).toEqual({ ...first, duplicate: true });
        const concurrent = await Promise.all(
          Array.from({ length: 10 }, () =>
            store.append(streamId, [ev('C')], { tenantId, expectedVersion: 'any', idempotencyKey: 'k-2' }),
          ),
        );
        expect(new Set(concurrent.map((result) => result.versions[0]))).toEqual(new Set([3]));
        expect(concurrent.filter((result) => !result.duplicate)).toHaveLength(1);
        const events = await store.readStream(streamId, { tenantId });
        expect(events).toHaveLength(3);
        expect(events[0]?.metadata.idempotencyKey).toBe('k-1');
      });
    });

    eventImportCases(() => store);

    describe('inline projections', () => {
      it('runs with the stored events inside the append', async () => {
        const streamId = streamOf('inline');
        const seen: EventEnvelope[] = [];
        const result = await store.append(streamId, [ev('A'), ev('B')], {
          tenantId,
          expectedVersion: 'no_stream',
          inline: ({ events }) => {
            seen.push(...events);
          },
        });
        expect(seen.map((event) => [event.version, event.globalPosition])).toEqual([
          [1, result.globalPositions[0]],
          [2, result.globalPositions[1]],
        ]);
        expect(seen[1]?.hash).toBe((await store.readStream(streamId, { tenantId }))[1]?.hash);
      });

      it('writes nothing and rethrows the same error when it throws', async () => {
        const streamId = streamOf('inline-fail');
        class LeaseLost extends Error {}
        const thrown = new LeaseLost('fenced');
        const error = await store
          .append(streamId, [ev('A')], {
            tenantId,
            expectedVersion: 'no_stream',
            idempotencyKey: 'fenced-key',
            inline: () => {
              throw thrown;
            },
          })
          .catch((caught: unknown) => caught);
        expect(error).toBe(thrown);
        expect(await store.readStream(streamId, { tenantId })).toEqual([]);
        expect((await store.readAll()).filter((event) => event.streamId === streamId)).toEqual([]);
        const retried = await store.append(streamId, [ev('A')], {
          tenantId,
          expectedVersion: 'no_stream',
          idempotencyKey: 'fenced-key',
        });
        expect(retried).toMatchObject({ versions: [1], duplicate: false });
      });
    });

    describe('onCommit', () => {
      it("tells its listeners of each own commit before the append settles, with the append's result", async () => {
        const told: (AppendResult | undefined)[] = [];
        let settled = false;
        const toldBeforeSettled: boolean[] = [];
        const stop = store.onCommit((own) => {
          told.push(own);
          toldBeforeSettled.push(!settled);
        });
        const streamId = streamOf('commit');
        const first = await store
          .append(streamId, [ev('A'), ev('B')], { tenantId, expectedVersion: 0, idempotencyKey: 'c-1' })
          .finally(() => {
            settled = true;
          });
        // Calls without a result (another process' commit, a (re)connected listener) may come too.
        const results = (): (AppendResult | undefined)[] => told.filter((own) => own !== undefined);
        expect(results()).toEqual([first]);
        expect(toldBeforeSettled[told.indexOf(first)]).toBe(true);
        // A duplicate committed nothing; a stopped listener hears nothing more.
        await store.append(streamId, [ev('A'), ev('B')], {
          tenantId,
          expectedVersion: 0,
          idempotencyKey: 'c-1',
        });
        expect(results()).toHaveLength(1);
        stop();
        const calls = told.length;
        await store.append(streamId, [ev('C')], { tenantId, expectedVersion: 2 });
        expect(told).toHaveLength(calls);
      });

      if (sql)
        it("hears another process' commits by notification, without a result, and not its own twice", async () => {
          const a = harness.store();
          const b = harness.store();
          const toldA: (AppendResult | undefined)[] = [];
          const toldB: (AppendResult | undefined)[] = [];
          const stops = [a.onCommit((own) => toldA.push(own)), b.onCommit((own) => toldB.push(own))];
          try {
            // Both listen once a third view's commit reaches them; then, once no call has come for
            // a while, everything notified so far has been delivered.
            await store.append(streamOf('commit-warm'), [ev('W')], { tenantId, expectedVersion: 0 });
            await deadline('both views listening', () => toldA.length > 0 && toldB.length > 0);
            for (let heard = -1; heard !== toldA.length + toldB.length;) {
              heard = toldA.length + toldB.length;
              await new Promise((resolve) => setTimeout(resolve, 300));
            }
            expect([...toldA, ...toldB].every((own) => own === undefined)).toBe(true);
            toldA.length = 0;
            toldB.length = 0;
            const own = await a.append(streamOf('commit-a'), [ev('A')], { tenantId, expectedVersion: 0 });
            expect(toldA).toEqual([own]);
            // b has heard a's notification, so it committed before b's append's: a listener hears
            // notifications in commit order, so a's own echo (were it a call) would come first.
            await deadline("a's notification", () => toldB.length > 0);
            const foreign = await b.append(streamOf('commit-b'), [ev('B')], { tenantId, expectedVersion: 0 });
            expect(toldB).toEqual([undefined, foreign]);
            await deadline("b's notification at a", () => toldA.length > 1);
            await new Promise((resolve) => setTimeout(resolve, 200));
            expect(toldA).toEqual([own, undefined]);
          } finally {
            for (const stop of stops) stop();
            await a.close();
            await b.close();
          }
        });
    });

    describe('readAll', () => {
      it('reads committed events in global order after a position', async () => {
        const first = await store.append(streamOf('all-1'), [ev('A'), ev('B')], {
          tenantId,
          expectedVersion: 0,
        });
        await store.append(streamOf('all-2'), [ev('C')], { tenantId, expectedVersion: 0 });
        const after = (first.globalPositions[0] ?? 0) - 1;
        // Another transaction anywhere on the server may hold the xid8 guard back for a moment.
        let page: readonly EventEnvelope[] = [];
        await deadline('three committed events', async () => {
          page = await store.readAll({ after, limit: 3 });
          return page.length === 3;
        });
        expect(page.map((event) => event.type)).toEqual(['A', 'B', 'C']);
        const positions = (await store.readAll()).map((event) => event.globalPosition);
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
        expect(new Set(positions).size).toBe(positions.length);
      });

      it('committedHead: the last committed position, of every tenant or of one (0 for none)', async () => {
        const a = await store.append(streamOf('head-a'), [ev('A')], {
          tenantId: 'tenant-head-a',
          expectedVersion: 0,
        });
        const b = await store.append(streamOf('head-b'), [ev('B'), ev('C')], {
          tenantId: 'tenant-head-b',
          expectedVersion: 0,
        });
        expect(await store.committedHead()).toBe(b.globalPositions[1]);
        expect(await store.committedHead({ tenantId: 'tenant-head-a' })).toBe(a.globalPositions[0]);
        expect(await store.committedHead({ tenantId: 'tenant-head-b' })).toBe(b.globalPositions[1]);
        expect(await store.committedHead({ tenantId: 'tenant-head-none' })).toBe(0);
      });

      it('readPage: the page readAll returns, and a committed head (if any) at or past it', async () => {
        const first = await store.append(streamOf('page-1'), [ev('A'), ev('B')], {
          tenantId: 'tenant-page-a',
          expectedVersion: 0,
        });
        const last = await store.append(streamOf('page-2'), [ev('C')], {
          tenantId: 'tenant-page-b',
          expectedVersion: 0,
        });
        const after = (first.globalPositions[0] ?? 0) - 1;
        // Another transaction anywhere on the server may hold the xid8 guard back for a moment.
        let page: Page = { events: [] };
        await deadline('the whole page', async () => {
          page = await store.readPage({ after, limit: 2 });
          return page.events.length === 2;
        });
        expect(page.events).toEqual(await store.readAll({ after, limit: 2 }));
        // Only a store that can hold events back says where its head is (see readPage).
        expect(page.committedHead ?? last.globalPositions[0]).toBeGreaterThanOrEqual(
          last.globalPositions[0]!,
        );
      });
    });

    describe('tenancy', () => {
      it("never returns or changes another tenant's events", async () => {
        const streamId = streamOf('tenancy');
        await store.append(streamId, [ev('Secret', { pin: 1 })], {
          tenantId: 'tenant-x',
          expectedVersion: 0,
        });
        await store.append(streamOf('tenancy-y'), [ev('Other')], {
          tenantId: 'tenant-y',
          expectedVersion: 0,
        });
        expect(await store.readStream(streamId, { tenantId: 'tenant-y' })).toEqual([]);
        await expect(
          store.append(streamId, [ev('Hijack')], { tenantId: 'tenant-y', expectedVersion: 'any' }),
        ).rejects.toBeInstanceOf(StreamTenantMismatch);
        // The whole log as committed now (a single readAll may stop short under load).
        const ofY: EventEnvelope[] = [];
        for await (const page of readLogToHead(store, { tenantId: 'tenant-y' })) ofY.push(...page);
        expect(ofY.length).toBeGreaterThan(0);
        expect(ofY.every((event) => event.tenantId === 'tenant-y')).toBe(true);
        expect((await store.verifyStream(streamId, { tenantId: 'tenant-y' })).eventCount).toBe(0);
        const folded = await store.aggregate(streamId, (count: number) => count + 1, 0, {
          tenantId: 'tenant-y',
        });
        expect(folded).toEqual({ state: 0, version: 0 });
        expect(await store.readStream(streamId, { tenantId: 'tenant-x' })).toHaveLength(1);
      });
    });

    describe('hash chain', () => {
      it('chains each event to the previous one with the documented hash', async () => {
        const streamId = streamOf('chain');
        await store.append(streamId, [ev('A', { b: 2, a: [1, { z: null, y: 'ü' }] }), ev('B')], {
          tenantId,
          expectedVersion: 'no_stream',
        });
        await store.append(streamId, [ev('C', 'text', { schemaVersion: 3 })], {
          tenantId,
          expectedVersion: 2,
        });
        const events = await store.readStream(streamId, { tenantId });
        let prevHash = GENESIS_HASH;
        for (const event of events) {
          expect(event.prevHash).toBe(prevHash);
          expect(event.hash).toBe(computeEventHash(prevHash, event));
          prevHash = event.hash;
        }
        expect(await store.verifyStream(streamId, { tenantId })).toEqual({
          streamId,
          valid: true,
          eventCount: 3,
          headHash: prevHash,
        });
        expect((await store.verifyStream(streamOf('empty'), { tenantId })).valid).toBe(true);
      });

      const tamperIt = sql ? it : () => undefined;
      tamperIt('finds a tampered row at its version', async () => {
        const { transaction } = harness;
        if (transaction === undefined) throw new Error(`${name}: the harness must provide transaction`);
        const streamId = streamOf('tamper');
        await store.append(streamId, [ev('A'), ev('B', { amount: 10 }), ev('C')], {
          tenantId,
          expectedVersion: 0,
        });
        await transaction((query) => tamper(query, streamId, 2, { amount: 1_000_000 }));
        expect(await store.verifyStream(streamId, { tenantId })).toMatchObject({
          valid: false,
          firstBrokenVersion: 2,
          reason: 'hash_mismatch',
        });
      });
    });

    const appendOnlyIt = sql ? it : () => undefined;
    appendOnlyIt('refuses UPDATE, DELETE and TRUNCATE on events: the log is append-only', async () => {
      const { transaction } = harness;
      if (transaction === undefined) throw new Error(`${name}: the harness must provide transaction`);
      const streamId = streamOf('append-only');
      await store.append(streamId, [ev('A', { amount: 10 }), ev('B')], { tenantId, expectedVersion: 0 });
      const refused = /events are append-only: (UPDATE|DELETE|TRUNCATE) on events is refused/;
      const attempts = [
        [`update events set data = '{"amount":1}'::jsonb where stream_id = $1`, [streamId]],
        ['delete from events where stream_id = $1 and version = 2', [streamId]],
        ['truncate events', []],
      ] as const;
      for (const [text, params] of attempts)
        await expect(transaction((query) => query(text, params))).rejects.toThrow(refused);
      const events = await store.readStream(streamId, { tenantId });
      expect(events.map((e) => [e.type, e.data])).toEqual([
        ['A', { amount: 10 }],
        ['B', {}],
      ]);
      expect((await store.verifyStream(streamId, { tenantId })).valid).toBe(true);
    });

    describe('aggregate and snapshots', () => {
      type Count = { count: number; last: string };
      const evolve = (state: Count, event: EventEnvelope): Count => ({
        count: state.count + 1,
        last: event.type,
      });

      it('folds from the newest snapshot with a matching tag', async () => {
        const streamId = streamOf('fold');
        await store.append(
          streamId,
          Array.from({ length: 25 }, (_, index) => ev(`E${index + 1}`)),
          {
            tenantId,
            expectedVersion: 0,
          },
        );
        const initial: Count = { count: 0, last: '' };
        const full = await store.aggregate(streamId, evolve, initial, { tenantId, snapshotEvery: 10 });
        expect(full).toEqual({ state: { count: 25, last: 'E25' }, version: 25 });
        expect(await store.loadSnapshot(streamId, { tenantId, schemaTag: 'v1' })).toMatchObject({
          version: 25,
        });
        await store.append(streamId, [ev('E26')], { tenantId, expectedVersion: 25 });
        const resumed = await store.aggregate(streamId, evolve, initial, { tenantId, snapshotEvery: 10 });
        expect(resumed).toEqual({ state: { count: 26, last: 'E26' }, version: 26, snapshotVersion: 25 });
        await store.saveSnapshot({
          streamId,
          tenantId,
          version: 26,
          schemaTag: 'v1',
          state: { count: -1, last: 'x' },
        });
        const retagged = await store.aggregate(streamId, evolve, initial, { tenantId, schemaTag: 'v2' });
        expect(retagged).toEqual({ state: { count: 26, last: 'E26' }, version: 26 });
        const paged = await store.aggregate(streamId, evolve, initial, {
          tenantId,
          schemaTag: 'v3',
          pageSize: 7,
        });
        expect(paged.state.count).toBe(26);
      });
    });

    describe('upcasting', () => {
      it('folds an event stored as v1 with the v2 shape', async () => {
        const streamId = streamOf('upcast');
        const upcasters: Upcaster[] = [
          {
            type: 'UserMessageReceived',
            fromSchemaVersion: 1,
            upcast: (data: { text: string }) => ({ content: data.text, role: 'user' }),
          },
        ];
        const today = harness.store({ upcasters });
        await today.append(streamId, [ev('UserMessageReceived', { text: 'hi' }, { schemaVersion: 1 })], {
          tenantId,
          expectedVersion: 0,
        });
        const [event] = await today.readStream(streamId, { tenantId });
        expect(event).toMatchObject({ schemaVersion: 2, data: { content: 'hi', role: 'user' } });
        const folded = await today.aggregate(
          streamId,
          (messages: string[], e: EventEnvelope) => [...messages, (e.data as { content: string }).content],
          [],
          { tenantId },
        );
        expect(folded.state).toEqual(['hi']);
        // Through the log too (read to the committed head: a single readAll may stop short under load).
        const all: EventEnvelope[] = [];
        for await (const page of readLogToHead(today, { tenantId })) all.push(...page);
        expect(all.find((e) => e.eventId === event?.eventId)?.schemaVersion).toBe(2);
        expect((await today.verifyStream(streamId, { tenantId })).valid).toBe(true);
        const [stored] = await today.readStream(streamId, { tenantId, raw: true });
        expect(stored).toMatchObject({ schemaVersion: 1, data: { text: 'hi' } });
        expect(computeEventHash(GENESIS_HASH, stored!)).toBe(stored?.hash);
      });
    });

    describe('checkpoints and subscribe', () => {
      it('stores checkpoints per subscriber', async () => {
        expect(await store.loadCheckpoint('nobody')).toBeUndefined();
        await store.saveCheckpoint('relay', 41);
        await store.saveCheckpoint('relay', 42);
        expect(await store.loadCheckpoint('relay')).toBe(42);
      });

      it('catches up, goes live, and resumes from its checkpoint without loss', async () => {
        const subscriberId = `sub-${uuidv7()}`;
        const tenant = `tenant-${uuidv7()}`;
        const streamA = streamOf('sub-a');
        await store.append(streamA, [ev('A1'), ev('A2')], { tenantId: tenant, expectedVersion: 0 });
        const received: EventEnvelope[] = [];
        const first = store.subscribe({
          subscriberId,
          tenantId: tenant,
          handler: (event) => {
            received.push(event);
          },
        });
        await first.caughtUp;
        await deadline('catch-up', () => received.length === 2);
        await store.append(streamA, [ev('A3')], { tenantId: tenant, expectedVersion: 2 });
        await deadline('live event', () => received.length === 3);
        await first.stop();
        await store.append(streamOf('sub-b'), [ev('B1'), ev('B2')], { tenantId: tenant, expectedVersion: 0 });
        const second = store.subscribe({
          subscriberId,
          tenantId: tenant,
          handler: (event) => {
            received.push(event);
          },
        });
        await deadline('resume', () => received.length === 5);
        await store.append(streamA, [ev('A4')], { tenantId: tenant, expectedVersion: 3 });
        await deadline('live after resume', () => received.length === 6);
        await second.stop();
        expect(received.map((event) => event.type)).toEqual(['A1', 'A2', 'A3', 'B1', 'B2', 'A4']);
        const positions = received.map((event) => event.globalPosition);
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
        expect(await store.loadCheckpoint(subscriberId)).toBe(positions.at(-1));
      });

      it('redelivers an event whose handler failed, after a restart', async () => {
        const subscriberId = `sub-${uuidv7()}`;
        const tenant = `tenant-${uuidv7()}`;
        await store.append(streamOf('redeliver'), [ev('R1'), ev('R2')], {
          tenantId: tenant,
          expectedVersion: 0,
        });
        const failing = store.subscribe({
          subscriberId,
          tenantId: tenant,
          batchSize: 1,
          handler: (event) => {
            if (event.type === 'R2') throw new Error('handler down');
          },
        });
        await expect(failing.done).rejects.toThrow('handler down');
        const seen: string[] = [];
        const retry = store.subscribe({
          subscriberId,
          tenantId: tenant,
          handler: (event) => void seen.push(event.type),
        });
        await deadline('redelivery', () => seen.length === 1);
        await retry.stop();
        expect(seen).toEqual(['R2']);
      });

      it("starts at the end with from: 'end'", async () => {
        const tenant = `tenant-${uuidv7()}`;
        const streamId = streamOf('end');
        await store.append(streamId, [ev('Old')], { tenantId: tenant, expectedVersion: 0 });
        const seen: string[] = [];
        const live = store.subscribe({
          subscriberId: `sub-${uuidv7()}`,
          tenantId: tenant,
          from: 'end',
          handler: (event) => void seen.push(event.type),
        });
        await live.caughtUp;
        await store.append(streamId, [ev('New')], { tenantId: tenant, expectedVersion: 1 });
        await deadline('live event', () => seen.length === 1);
        await live.stop();
        expect(seen).toEqual(['New']);
      });
    });
  });
};
