import type { EventEnvelope } from '../envelope.ts';

/**
 * Decides when a hole in the global positions is final. A position is taken inside the append's
 * transaction, after its transaction id, so a reader can see position p+1 committed (lower xid)
 * while p is still in flight (higher xid): the xid8 guard of readAll does not hide p+1 then. And p
 * may never commit (a rolled-back append, a sequence jump after a crash). The relay publishes only a
 * gapless prefix and waits until the gap is settled: every transaction that could still fill it
 * has ended. `mark` is taken right after the read that saw the gap; `settled(mark)` is asked
 * before a later read, and a gap still open in that read is then skipped for good.
 */
export type GapResolver = Readonly<{
  mark: () => Promise<unknown>;
  settled: (mark: unknown) => Promise<boolean>;
}>;

/** A single-session store (PGlite) or an in-memory one: no transaction is ever in flight during a read. */
export const immediateGapResolver: GapResolver = { mark: async () => undefined, settled: async () => true };

/** Without transaction information: a gap is final once it has been open for `ms`. */
export const timedGapResolver = (ms: number): GapResolver => ({
  mark: async () => Date.now(),
  settled: async (mark) => Date.now() - (mark as number) >= ms,
});

type Query = (text: string, values?: unknown[]) => Promise<{ rows: unknown[] }>;

/**
 * Exact on Postgres. The mark is a fresh transaction id (`pg_current_xact_id()` in its own
 * statement): every transaction that could hold a missing position got its id before it. The gap
 * is settled once no transaction of this database older than the mark is running, judged by the
 * event store's `agentledger_safe_xid8()` (migrations), so long transactions in other databases do
 * not hold the relay back. (A snapshot's xmax would not do as a mark: it is the latest completed
 * id + 1, so a running transaction can sit at or above it.) `query` is `pool.query` of a `pg.Pool`.
 */
export const createPostgresGapResolver = (query: Query): GapResolver => ({
  mark: async () => {
    const { rows } = await query('select pg_current_xact_id()::text as mark');
    return (rows[0] as { mark: string }).mark;
  },
  settled: async (mark) => {
    const { rows } = await query('select agentledger_safe_xid8() > $1::xid8 as settled', [mark]);
    return (rows[0] as { settled: boolean }).settled;
  },
});

/**
 * The longest prefix of `batch` (read after `checkpoint`) without a gap, where missing positions
 * up to `settledUpTo` count as final. `open` is true when a gap cut the batch short.
 */
export const gaplessPrefix = (
  batch: readonly EventEnvelope[],
  checkpoint: number,
  settledUpTo: number,
): Readonly<{ events: readonly EventEnvelope[]; open: boolean; skipped: number }> => {
  let expected = checkpoint + 1;
  let skipped = 0;
  for (let i = 0; i < batch.length; i++) {
    const position = batch[i]!.globalPosition;
    if (position !== expected) {
      if (position - 1 > settledUpTo) return { events: batch.slice(0, i), open: true, skipped };
      skipped += position - expected;
    }
    expected = position + 1;
  }
  return { events: batch, open: false, skipped };
};
