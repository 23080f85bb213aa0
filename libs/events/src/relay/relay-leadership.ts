import type { Logger } from '../bus.ts';
import { quietLogger } from '../bus/bus-support.ts';

/** Who may run the relay: exactly one holder across replicas. */
export type RelayLeadership = Readonly<{
  /** True when this process holds leadership, taking it if it is free. Never throws. */
  acquire: () => Promise<boolean>;
  /** Whether leadership is still held, as far as this process knows right now. */
  isHeld: () => boolean;
  release: () => Promise<void>;
}>;

/** The embedded mode: one process, always the leader. */
export const soleLeadership = (): RelayLeadership => ({
  acquire: async () => true,
  isHeld: () => true,
  release: async () => undefined,
});

/** The slice of a `pg.Client` the lock needs (also satisfied by other Postgres drivers' clients). */
export type LockClient = {
  query: (text: string, values?: unknown[]) => Promise<{ rows: unknown[] }>;
  end: () => Promise<void>;
  on: (event: 'error', listener: (error: Error) => void) => unknown;
};

export type AdvisoryLockLeadershipOptions = Readonly<{
  /** Opens a dedicated connection (not from a pool: the lock lives as long as the session). */
  connect: () => Promise<LockClient>;
  /** The advisory lock key (a bigint as a decimal string). */
  lockKey?: string;
  /** How often the holder checks that its connection (and so its lock) is still alive. Default 1 s. */
  checkIntervalMs?: number;
  /**
   * After losing the lock, how long this process leaves it to the standbys before trying again
   * (so a flapping connection hands over instead of winning the race back). Default 3 s.
   */
  holdOffMs?: number;
  logger?: Logger;
}>;

/** Default advisory lock key of the outbox relay ('agentledger-relay', hashed once by hand). */
export const RELAY_LOCK_KEY = '7311482025061842';

const withTimeout = <T>(work: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    work,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref(),
    ),
  ]);

/**
 * Leadership by a session-level Postgres advisory lock (`pg_try_advisory_lock`) on a dedicated
 * connection. When the holder dies (even by SIGKILL) its session ends and the lock is free; a
 * standby calling `acquire` periodically takes over within its polling period. The holder pings
 * its connection every `checkIntervalMs`, so a broken connection is noticed and leadership dropped.
 */
export const createAdvisoryLockLeadership = (options: AdvisoryLockLeadershipOptions): RelayLeadership => {
  const lockKey = options.lockKey ?? RELAY_LOCK_KEY;
  const checkIntervalMs = options.checkIntervalMs ?? 1_000;
  const logger = options.logger ?? quietLogger;
  let client: LockClient | undefined;
  let held = false;
  const holdOffMs = options.holdOffMs ?? 3_000;
  let checkedAt = 0;
  let lostAt = Number.NEGATIVE_INFINITY;

  const drop = async (reason: string): Promise<void> => {
    if (held) {
      logger.warn('relay leadership lost', { reason });
      lostAt = Date.now();
    }
    held = false;
    const current = client;
    client = undefined;
    await current?.end().catch(() => undefined);
  };

  const open = async (): Promise<LockClient> => {
    const opened = await withTimeout(options.connect(), 5_000);
    opened.on('error', (error) => void drop(`connection error: ${error.message}`));
    client = opened;
    return opened;
  };

  const acquire = async (): Promise<boolean> => {
    try {
      if (held && client) {
        if (Date.now() - checkedAt < checkIntervalMs) return true;
        await withTimeout(client.query('select 1'), checkIntervalMs * 3);
        checkedAt = Date.now();
        return held;
      }
      if (Date.now() - lostAt < holdOffMs) return false;
      const current = client ?? (await open());
      const { rows } = await withTimeout(
        current.query('select pg_try_advisory_lock($1::bigint) as locked', [lockKey]),
        5_000,
      );
      held = (rows[0] as { locked?: boolean } | undefined)?.locked === true;
      checkedAt = Date.now();
      if (held) logger.info('relay leadership taken', { lockKey });
      return held;
    } catch (error) {
      await drop(String(error));
      return false;
    }
  };

  return {
    acquire,
    isHeld: () => held && client !== undefined,
    release: async () => {
      if (held && client) {
        await client.query('select pg_advisory_unlock($1::bigint)', [lockKey]).catch(() => undefined);
      }
      held = false;
      await drop('released');
    },
  };
};
