import { Unavailable } from '@agentledger/events';
import { pause } from '../pause.ts';

/** Attempts after the first; bounded, so a hot session fails loudly instead of spinning. */
export const MAX_CONFLICT_RETRIES = 30;

/** Jittered and growing, so writers racing on one session spread out instead of colliding again. */
const conflictBackoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 2 ** attempt)));

/**
 * The one conflict policy of the engine: retries `attempt` while `retryable` says the error is a
 * version conflict, with jittered backoff, at most `MAX_CONFLICT_RETRIES` times.
 */
export const withConflictRetry = async <T>(
  attempt: () => Promise<T>,
  retryable: (error: unknown) => boolean,
): Promise<T> => {
  for (let tries = 0; ; tries += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (!retryable(error) || tries >= MAX_CONFLICT_RETRIES) throw error;
      await conflictBackoff(tries);
    }
  }
};

/** How long a step keeps trying to record an effect's result while the store is unavailable. */
export const UNAVAILABLE_RETRY_MS = 60_000;

/** The wait after each try, growing from this and doubling, to at most `UNAVAILABLE_MAX_WAIT_MS`. */
const UNAVAILABLE_FIRST_WAIT_MS = 50;
const UNAVAILABLE_MAX_WAIT_MS = 2_000;

/**
 * Retries `attempt` while it fails with `Unavailable` (the database is down or restarting): after
 * 50 ms, doubling to 2 s, for at most `budgetMs`; the last error escapes when the budget is spent
 * or `signal` aborts (shutdown, a lost lease, a cancelled turn). For recording an effect's result,
 * which was paid for: the append is fenced by the lease epoch, and when a try that failed did
 * commit, the next one decides on a state that holds the result and appends nothing.
 */
export const withUnavailableRetry = async <T>(
  attempt: () => Promise<T>,
  signal: AbortSignal,
  budgetMs: number = UNAVAILABLE_RETRY_MS,
): Promise<T> => {
  const deadline = Date.now() + budgetMs;
  for (let wait = UNAVAILABLE_FIRST_WAIT_MS; ; wait = Math.min(UNAVAILABLE_MAX_WAIT_MS, wait * 2)) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof Unavailable) || signal.aborted || Date.now() + wait > deadline) throw error;
      await pause(wait, signal);
      if (signal.aborted) throw error;
    }
  }
};
