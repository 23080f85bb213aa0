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
