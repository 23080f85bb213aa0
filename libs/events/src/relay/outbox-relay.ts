import type { EventBus, Logger } from '../bus.ts';
import type { EventEnvelope } from '../envelope.ts';
import type { EventStore, Page } from '../store.ts';
import { createCheckpointPacer } from '../checkpoint-pacer.ts';
import { quietLogger } from '../bus/bus-support.ts';
import {
  createPostgresGapResolver,
  gaplessPrefix,
  immediateGapResolver,
  timedGapResolver,
  type GapResolver,
} from './position-gaps.ts';
import { soleLeadership, type RelayLeadership } from './relay-leadership.ts';
import { publishTraced } from './relay-spans.ts';

export type OutboxRelayOptions = Readonly<{
  /**
   * Committed events in global order (`readPage`, with the late-commit guard: a short page below
   * the store's committed head is read again without a wake, as the end of the transaction that
   * held it back sends none) and the checkpoint.
   */
  store: Pick<EventStore, 'readPage' | 'loadCheckpoint' | 'saveCheckpoint'>;
  bus: Pick<EventBus, 'publish'>;
  /** Default `soleLeadership()` (embedded); use `createAdvisoryLockLeadership` across replicas. */
  leadership?: RelayLeadership;
  /**
   * When a hole in the global positions is final (see `GapResolver`). When omitted it follows the
   * store: one exposing a node-postgres `pool` (`createPostgresEventStore`) gets the exact
   * `createPostgresGapResolver`, a PGlite store (`pglite`: one session, so every hole is final)
   * `immediateGapResolver`, anything else (in memory: no holes) a 10 s timeout.
   */
  gaps?: GapResolver;
  /** The checkpoint's subscriber id. Default 'outbox-relay'. */
  relayId?: string;
  /** Events per read and publish. Default 500. */
  batchSize?: number;
  /** Wait between reads when caught up (cut short by `wake`). Default 20 ms. */
  idlePollMs?: number;
  /**
   * Wait between reads while a gap in positions is open (usually filled within ms), and the first
   * one after a read held back below the committed head (doubled up to `idlePollMs`). Default 5 ms.
   */
  gapPollMs?: number;
  /** How often a standby tries to take leadership (a `wake` does not make it try sooner). Default 1 s. */
  standbyPollMs?: number;
  /** First back-off after a failure, doubled up to `maxRetryDelayMs` (default 100 ms / 2 s). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** The newest global position in the store, for the event lag when a whole batch is behind. */
  headPosition?: () => Promise<number>;
  /**
   * Saves the checkpoint at most this often (default 0: after every published batch). What was
   * published since the last save is published again after a crash or a change of leader (at
   * least once, as always; consumers dedupe by stream and version). The position published up to
   * is saved on the first step after the interval, even one that finds nothing new, and at stop.
   */
  checkpointEveryMs?: number;
  /** Runs after the broker acknowledged a batch and before its checkpoint is saved. */
  onPublished?: (batch: readonly EventEnvelope[]) => Promise<void> | void;
  logger?: Logger;
  now?: () => number;
}>;

export type RelayStatus = Readonly<{
  running: boolean;
  leader: boolean;
  /**
   * The global position published up to: its checkpoint saved, being saved while the next batch is
   * read, or (with `checkpointEveryMs`) to be saved when the interval is up.
   */
  checkpoint: number;
  /** Committed events not yet published (exact when under a batch behind; else from `headPosition`). */
  lagEvents: number;
  /** Age of the oldest committed event not yet published; 0 when caught up. */
  lagMs: number;
  publishedEvents: number;
  /** Positions skipped as never committed (rolled-back appends, sequence jumps). */
  skippedPositions: number;
  failures: number;
  lastError?: string;
}>;

export type OutboxRelay = Readonly<{
  /** Starts the loop in the background; `done` settles when it ends. */
  start: () => void;
  /** Finishes the batch in progress (its checkpoint saved if published), then releases leadership. */
  stop: () => Promise<void>;
  /** A hint that events were committed: skips the rest of the leader's idle wait (a standby ignores it). */
  wake: () => void;
  status: () => RelayStatus;
}>;

type QueryPool = { query: (text: string, values?: unknown[]) => Promise<{ rows: unknown[] }> };

/** The gap resolver a store's adapter calls for (duck-typed: the relay sees only the port). */
const gapResolverFor = (store: object): GapResolver => {
  const pool = (store as { pool?: Partial<QueryPool> }).pool;
  if (typeof pool?.query === 'function') {
    const { query } = pool as QueryPool;
    return createPostgresGapResolver((text, values) => query.call(pool, text, values));
  }
  if ('pglite' in store) return immediateGapResolver;
  return timedGapResolver(10_000);
};

/**
 * The outbox relay (docs/architecture.md, flow step 2): reads committed events after its checkpoint,
 * publishes them in batches keyed by session, and saves the checkpoint only after the broker
 * acknowledged. A crash anywhere republishes at most the batch in flight (at least once; consumers
 * dedupe by stream and version). Only the holder of `leadership` reads and publishes.
 */
export const createOutboxRelay = (options: OutboxRelayOptions): OutboxRelay => {
  const relayId = options.relayId ?? 'outbox-relay';
  const batchSize = options.batchSize ?? 500;
  const idlePollMs = options.idlePollMs ?? 20;
  const gapPollMs = options.gapPollMs ?? 5;
  const standbyPollMs = options.standbyPollMs ?? 1_000;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 2_000;
  const leadership = options.leadership ?? soleLeadership();
  const logger = options.logger ?? quietLogger;
  const now = options.now ?? Date.now;
  const state = {
    running: false,
    stopping: false,
    leader: false,
    checkpoint: 0,
    lagEvents: 0,
    lagMs: 0,
    publishedEvents: 0,
    skippedPositions: 0,
    failures: 0,
    lastError: undefined as string | undefined,
  };
  const gaps = options.gaps ?? gapResolverFor(options.store);
  let gap: { mark: unknown; upTo: number } | undefined;
  let headCheckedAt = 0;
  // The wait before the next read while reads stop short of the committed head; undefined when not.
  let heldBackMs: number | undefined;
  let loop: Promise<void> | undefined;

  let wakeUp: (() => void) | undefined;
  // A wake that comes while a step runs (its read may have missed those events) cuts the next
  // pause short: a notification is never lost to the window between a read and the pause.
  let woken = false;
  /** Ends the pause in progress, or the next one before it starts. */
  const rouse = (): void => {
    if (wakeUp) wakeUp();
    else woken = true;
  };
  const pause = (ms: number): Promise<void> => {
    // A stop that came while the loop was past its check (say, awaiting leadership) is not waited out.
    if (state.stopping) return Promise.resolve();
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakeUp = done;
    });
  };

  const measureLag = async (batch: readonly EventEnvelope[]): Promise<void> => {
    const oldest = batch[0];
    state.lagMs = oldest ? Math.max(0, now() - Date.parse(oldest.recordedAt)) : 0;
    if (batch.length < batchSize || !options.headPosition) {
      state.lagEvents = batch.length;
    } else if (now() - headCheckedAt >= 1_000) {
      headCheckedAt = now();
      state.lagEvents = Math.max(batch.length, (await options.headPosition()) - state.checkpoint);
    }
  };

  /** Positions up to which a gap seen earlier is final; asked before the read that relies on it. */
  const settledUpTo = async (): Promise<number> => {
    if (!gap || !(await gaps.settled(gap.mark))) return state.checkpoint;
    const upTo = gap.upTo;
    gap = undefined;
    return upTo;
  };

  /**
   * The next page, read while the current one is published when a full page suggests more is
   * waiting. It is read without skipping any gap (only a read that follows a settled check may).
   */
  let readAhead: { after: number; page: Promise<Page> } | undefined;

  const read = async (): Promise<Page & { settled: number }> => {
    const ahead = readAhead;
    readAhead = undefined;
    if (ahead && ahead.after === state.checkpoint && !gap)
      return { ...(await ahead.page), settled: state.checkpoint };
    const settled = await settledUpTo();
    return { ...(await options.store.readPage({ after: state.checkpoint, limit: batchSize })), settled };
  };

  const readNext = (after: number): void => {
    const page = options.store.readPage({ after, limit: batchSize });
    page.catch(() => undefined); // awaited (and its error handled) by the next step, if still wanted
    readAhead = { after, page };
  };

  /**
   * The checkpoint save of the last published batch: it overlaps the next read, and is awaited
   * before anything else is published (a failed save fails that step: the checkpoint is reloaded
   * and the batch republished, as when the save is awaited at once).
   */
  let saving: Promise<void> | undefined;
  const saved = async (): Promise<void> => {
    const pending = saving;
    saving = undefined;
    await pending;
  };
  // The position published up to, saved at most every `checkpointEveryMs`.
  const pacer = createCheckpointPacer(options.checkpointEveryMs ?? 0, now);
  /** Starts the save of what was published when it is due (`force`: now), overlapping the next read. */
  const save = (force = false): void => {
    const position = pacer.take(force);
    if (position === undefined) return;
    if (!leadership.isHeld()) throw new Error('leadership lost before the checkpoint');
    saving = options.store.saveCheckpoint(relayId, position);
    // Awaited by the next step (or at stop); a failure starts that step now, not at the next wake.
    saving.catch(rouse);
  };

  /**
   * One read-publish-checkpoint step; true when the next read should start at once: a full page
   * was published, so more is likely waiting. After a short page everything committed by then is
   * out, unless the page stopped below the store's committed head (`heldBackMs` then shortens the
   * pause: the transaction that held it back may end without a notification); a commit since
   * wakes the relay (the pause returns at once), so reading again would mostly find nothing.
   */
  const step = async (): Promise<boolean> => {
    const [{ events: page, committedHead = 0, settled }] = await Promise.all([read(), saved()]);
    const { events: batch, open, skipped } = gaplessPrefix(page, state.checkpoint, settled);
    // Stopped short of committed events by a transaction still running: read again soon.
    const heldBack =
      !open && page.length < batchSize && committedHead > (page.at(-1)?.globalPosition ?? state.checkpoint);
    heldBackMs = heldBack
      ? Math.min(idlePollMs, heldBackMs === undefined ? gapPollMs : heldBackMs * 2)
      : undefined;
    if (open && !gap) gap = { mark: await gaps.mark(), upTo: page.at(-1)!.globalPosition };
    await measureLag(page);
    const last = batch.at(-1);
    if (!last) {
      save();
      return false;
    }
    if (!open && page.length === batchSize) readNext(last.globalPosition);
    await publishTraced(batch, (publishOptions) => options.bus.publish(batch, publishOptions));
    await options.onPublished?.(batch);
    pacer.moved(last.globalPosition);
    save();
    if (skipped > 0) logger.info('skipped positions that never committed', { relayId, skipped });
    state.checkpoint = last.globalPosition;
    state.publishedEvents += batch.length;
    state.skippedPositions += skipped;
    state.lagEvents = Math.max(0, state.lagEvents - batch.length);
    state.failures = 0;
    if (open) return false; // the events past the hole wait for it (the pause is the gap poll)
    const full = page.length === batchSize;
    if (!full) state.lagMs = 0; // all that was committed is out
    return full;
  };

  const lead = async (): Promise<boolean> => {
    if (!(await leadership.acquire())) {
      if (state.leader) logger.warn('relay is no longer the leader', { relayId });
      state.leader = false;
      return false;
    }
    if (!state.leader) {
      gap = undefined;
      heldBackMs = undefined;
      readAhead = undefined;
      pacer.drop();
      await saved().catch(() => undefined);
      state.checkpoint = (await options.store.loadCheckpoint(relayId)) ?? 0;
      state.leader = true;
      logger.info('relay active', { relayId, checkpoint: state.checkpoint });
    }
    return true;
  };

  const run = async (): Promise<void> => {
    while (!state.stopping) {
      try {
        if (!(await lead())) {
          await pause(standbyPollMs);
          continue;
        }
        woken = false;
        if (!(await step())) await pause(gap ? gapPollMs : (heldBackMs ?? idlePollMs));
      } catch (error) {
        state.failures++;
        state.lastError = String(error);
        state.leader = false; // reload the checkpoint before the next batch
        const backoff = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** (state.failures - 1));
        logger.warn('relay step failed; retrying', { relayId, error: state.lastError, backoff });
        await pause(backoff);
      }
    }
    await (async () => {
      await saved();
      if (state.leader) save(true);
      await saved();
    })().catch((error: unknown) =>
      logger.warn('relay checkpoint not saved at stop', { relayId, error: String(error) }),
    );
    state.leader = false;
    await leadership.release();
  };

  return {
    start: () => {
      if (loop) return;
      state.running = true;
      loop = run().finally(() => {
        state.running = false;
      });
    },
    stop: async () => {
      state.stopping = true;
      woken = true;
      wakeUp?.();
      await loop;
    },
    wake: () => {
      // Only the leader reads. A standby asks for leadership once a standby poll, not once a
      // commit: every replica listens, and each wake would cost it a lock attempt on Postgres.
      // A wake during a read starts one more read after it; wakes meanwhile fold into that one.
      if (state.leader) rouse();
    },
    status: () => ({
      running: state.running,
      leader: state.leader,
      checkpoint: state.checkpoint,
      lagEvents: state.lagEvents,
      lagMs: state.lagMs,
      publishedEvents: state.publishedEvents,
      skippedPositions: state.skippedPositions,
      failures: state.failures,
      ...(state.lastError === undefined ? {} : { lastError: state.lastError }),
    }),
  };
};
