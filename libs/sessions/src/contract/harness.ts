import { sessionStreamId, uuidv7, type AppendResult, type EventStore } from '@agentledger/events';
import type { Lease, SessionIndex, SessionProjection } from '../session-index.ts';
import type { ToolAttempts } from '../tool-attempts.ts';

/**
 * What a sessions-index adapter gives the role contracts: the adapter over one database, and the
 * event store of that database whose appends run its projection (the only way rows are written).
 * Opened once per spec file; every case uses fresh tenant and session ids.
 */
export type SessionIndexHarness<Tx = unknown> = Readonly<{
  store: EventStore<Tx>;
  index: SessionIndex<Tx> & ToolAttempts;
  /** The adapter's clock (the database's for SQL adapters), in epoch milliseconds. */
  now: () => number;
  /** A UTC day passes for usage: what was counted today is yesterday's from now on. */
  passDay: () => Promise<void>;
  close: () => Promise<void>;
}>;

/** The suites of one adapter share one harness: `harness()` is valid inside their cases. */
export type HarnessRef = () => SessionIndexHarness;

export const freshId = (label: string): string => `${label}-${uuidv7()}`;

export const projection = (
  tenantId: string,
  sessionId: string,
  over: Partial<Omit<SessionProjection, 'tenantId' | 'sessionId'>> = {},
): SessionProjection => ({
  tenantId,
  sessionId,
  streamId: sessionStreamId(tenantId, sessionId),
  teamId: 'team-1',
  status: 'idle',
  version: 1,
  pendingWork: false,
  partition: 0,
  tokensUsed: 0,
  ...over,
});

/**
 * Appends one event to the row's stream with the row as its projection, as the session engine
 * does: declared to the database when the adapter can (`via` 'declared', the default then), else
 * `project` inline in the append's transaction; `fail` throws after an inline projection, inside
 * the append.
 */
export const write = <Tx>(
  harness: Pick<SessionIndexHarness<Tx>, 'store' | 'index'>,
  row: SessionProjection,
  {
    lease,
    fail = false,
    via = harness.index.declare === undefined || fail ? 'inline' : 'declared',
  }: Readonly<{ lease?: Lease; fail?: boolean; via?: 'inline' | 'declared' }> = {},
): Promise<AppendResult> => {
  const { declare } = harness.index;
  return harness.store.append(row.streamId, [{ type: 'Probe', data: {} }], {
    tenantId: row.tenantId,
    expectedVersion: 'any',
    ...(via === 'declared' && declare !== undefined
      ? { declared: () => declare(row, lease) }
      : {
          inline: async ({ tx }) => {
            await harness.index.project(tx, row, lease);
            if (fail) throw new Error('rolled back');
          },
        }),
  });
};

/** The number of events in a row's stream (what a fenced append must not change). */
export const eventsOf = async (harness: SessionIndexHarness, row: SessionProjection): Promise<number> =>
  (await harness.store.readStream(row.streamId, { tenantId: row.tenantId })).length;

/** Polls `probe` until it returns a value (no fixed sleeps); fails after 10 s. */
export const until = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/** Acquires with a 1 ms lease and waits until it has expired on the adapter's clock. */
export const expiredLease = async (
  harness: SessionIndexHarness,
  tenantId: string,
  sessionId: string,
  owner: string,
): Promise<Lease> => {
  const lease = await harness.index.acquire(tenantId, sessionId, owner, 1);
  if (!lease) throw new Error(`${owner} could not take the lease of ${sessionId}`);
  await until('the lease to expire', async () => {
    const row = await harness.index.get(tenantId, sessionId);
    return row?.leaseExpiresAt && Date.parse(row.leaseExpiresAt) < harness.now() ? true : undefined;
  });
  return lease;
};
