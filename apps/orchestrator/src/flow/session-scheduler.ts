/**
 * Runs work per session: at most one run per session at a time, different sessions in parallel up
 * to `maxConcurrent`. Scheduling a session that is running marks it to run once more afterwards, so
 * an event that arrives mid-run is never missed, and a burst of events costs one extra run at most.
 * `onPressure(true)` fires when the queue reaches `highWater` (the consumer pauses) and
 * `onPressure(false)` once it has drained below half of it (the consumer resumes).
 */
export type SessionScheduler = Readonly<{
  schedule: (sessionId: string) => void;
  running: () => number;
  queued: () => number;
  /** Stops starting new runs and waits for the running ones, at most until `deadlineMs` elapses. */
  drain: (deadlineMs: number) => Promise<boolean>;
}>;

export type SessionSchedulerOptions = Readonly<{
  maxConcurrent: number;
  highWater: number;
  run: (sessionId: string) => Promise<void>;
  onPressure?: (saturated: boolean) => void;
  onError?: (sessionId: string, error: unknown) => void;
}>;

export const createSessionScheduler = (options: SessionSchedulerOptions): SessionScheduler => {
  const queue: string[] = [];
  const queuedSet = new Set<string>();
  const active = new Map<string, Promise<void>>();
  const again = new Set<string>();
  let saturated = false;
  let draining = false;

  const pressure = (): void => {
    if (!saturated && queue.length >= options.highWater) {
      saturated = true;
      options.onPressure?.(true);
    } else if (saturated && queue.length < Math.max(1, Math.floor(options.highWater / 2))) {
      saturated = false;
      options.onPressure?.(false);
    }
  };

  const start = (sessionId: string): void => {
    const runOnce = async (): Promise<void> => {
      try {
        await options.run(sessionId);
      } catch (error) {
        options.onError?.(sessionId, error);
      } finally {
        active.delete(sessionId);
        if (again.delete(sessionId) && !draining) enqueue(sessionId);
        pump();
      }
    };
    active.set(sessionId, runOnce());
  };

  const pump = (): void => {
    while (!draining && active.size < options.maxConcurrent && queue.length > 0) {
      const next = queue.shift()!;
      queuedSet.delete(next);
      start(next);
    }
    pressure();
  };

  const enqueue = (sessionId: string): void => {
    if (queuedSet.has(sessionId)) return;
    queuedSet.add(sessionId);
    queue.push(sessionId);
  };

  return {
    schedule: (sessionId) => {
      if (draining) return;
      if (active.has(sessionId)) again.add(sessionId);
      else enqueue(sessionId);
      pump();
    },
    running: () => active.size,
    queued: () => queue.length,
    drain: async (deadlineMs) => {
      draining = true;
      queue.length = 0;
      queuedSet.clear();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), deadlineMs);
      });
      const finished = Promise.allSettled([...active.values()]).then(() => true as const);
      try {
        return await Promise.race([finished, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
};
