/**
 * Counts permits; `acquire` waits (FIFO) when none is free. Bounds concurrent model calls, tool
 * calls and sessions per replica, so load beyond the bound queues instead of crashing the process.
 */
export type Semaphore = Readonly<{
  acquire: (signal?: AbortSignal) => Promise<() => void>;
  /** Runs `work` holding one permit. */
  run: <T>(work: () => Promise<T>, signal?: AbortSignal) => Promise<T>;
  inUse: () => number;
  waiting: () => number;
  /** Permits free now: 0 means the next `acquire` waits. */
  available: () => number;
}>;

export const createSemaphore = (permits: number): Semaphore => {
  if (!Number.isInteger(permits) || permits < 1)
    throw new RangeError(`permits must be a positive integer, got ${permits}`);
  let used = 0;
  const queue: Array<() => void> = [];

  const release = (): void => {
    const next = queue.shift();
    if (next) next();
    else used -= 1;
  };

  const acquire = (signal?: AbortSignal): Promise<() => void> => {
    signal?.throwIfAborted();
    if (used < permits) {
      used += 1;
      return Promise.resolve(once(release));
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(once(release));
      };
      const onAbort = (): void => {
        const index = queue.indexOf(grant);
        if (index >= 0) queue.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(grant);
    });
  };

  return {
    acquire,
    run: async (work, signal) => {
      const done = await acquire(signal);
      try {
        return await work();
      } finally {
        done();
      }
    },
    inUse: () => used,
    waiting: () => queue.length,
    available: () => permits - used,
  };
};

const once = (fn: () => void): (() => void) => {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
};
