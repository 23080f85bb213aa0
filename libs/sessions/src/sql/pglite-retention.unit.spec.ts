import { createPgliteEventStore, type PgliteEventStore } from '@agentledger/events/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionEngine } from '../engine/session-engine.ts';
import { closeThroughEngine, runRetention } from '../retention/run-retention.ts';
import { meta, startSession } from '../testing/fixtures.ts';
import { createSqlRetentionStore } from './sql-retention-store.ts';
import { createSqlSessionIndex } from './sql-session-index.ts';

// The embedded mode runs the same migrations, so retention and the events guard behave alike.
describe('retention on PGlite (the embedded mode)', () => {
  let store: PgliteEventStore;
  beforeAll(async () => {
    store = await createPgliteEventStore();
  }, 120_000); // a cold PGlite plus every migration takes seconds on a shared machine
  afterAll(async () => {
    await store.close();
  });

  const rows = async (text: string) => (await store.pglite.query<Record<string, unknown>>(text)).rows;
  const refusal = (text: string) =>
    store.pglite.query(text).then(
      () => {
        throw new Error(`${text} was not refused`);
      },
      (error: { code?: string }) => error.code,
    );

  it('deletes a closed session whole through the tombstone path, and nothing else can', async () => {
    const index = createSqlSessionIndex(store.db);
    const engine = createSessionEngine({ store, index, partitions: 1 });
    const closedAt = new Date('2026-01-01T00:00:00Z');
    for (const id of ['gone', 'kept'])
      await engine.handle(startSession(id), { tenantId: 'tenant-a', sessionId: id });
    await engine.handle(
      { type: 'CloseSession', data: {}, metadata: meta(closedAt) },
      { tenantId: 'tenant-a', sessionId: 'gone' },
    );
    const lease = (await index.acquire('tenant-a', 'kept', 'w1', 60_000))!;
    await index.markAttempt(lease, 'tc-1');

    const report = await runRetention(
      {
        store: createSqlRetentionStore(store.db),
        closeSession: closeThroughEngine(engine),
        policies: {
          default: { kind: 'expire', deleteClosedAfterDays: 1 },
          tenants: {},
          idempotencyKeyHours: 24,
        },
      },
      { now: new Date(closedAt.getTime() + 86_400_000) },
    );

    expect(report.tenants[0]!.deleted.map((d) => d.sessionId)).toEqual(['gone']);
    expect(await rows('select session_id, event_count from session_tombstones')).toEqual([
      { session_id: 'gone', event_count: 2 },
    ]);
    expect(await rows("select stream_id from events where stream_id = 'session-tenant-a/gone'")).toEqual([]);
    expect(await rows('select count(*)::int as n from tool_call_attempts')).toEqual([{ n: 1 }]); // kept's call is open
    expect(await refusal("delete from events where stream_id = 'session-tenant-a/kept'")).toBe('23001');
    expect(await refusal("update events set type = 'X'")).toBe('23001');
  }, 60_000);
});
