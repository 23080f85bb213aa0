/**
 * A token bucket per model endpoint: `capacity` tokens, refilled continuously at `perMinute`.
 * `take(n)` resolves when n tokens are available; the clock is injected so tests need no sleeps.
 */
export type TokenBucket = Readonly<{
  take: (tokens: number, signal?: AbortSignal) => Promise<void>;
  /** Milliseconds until `tokens` would be available (0 when they are now). */
  delayFor: (tokens: number) => number;
  /** Spends tokens already used (the bucket may go into debt; later takes wait it out). */
  debit: (tokens: number) => void;
}>;

export type Clock = Readonly<{
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}>;

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    }),
};

export const createTokenBucket = (
  perMinute: number,
  clock: Clock = systemClock,
  capacity = perMinute,
): TokenBucket => {
  if (!(perMinute > 0)) throw new RangeError(`perMinute must be positive, got ${perMinute}`);
  const ratePerMs = perMinute / 60_000;
  let tokens = capacity;
  let updatedAt = clock.now();

  const refill = (): void => {
    const now = clock.now();
    tokens = Math.min(capacity, tokens + (now - updatedAt) * ratePerMs);
    updatedAt = now;
  };

  const delayFor = (wanted: number): number => {
    refill();
    const need = Math.min(wanted, capacity) - tokens;
    return need <= 0 ? 0 : Math.ceil(need / ratePerMs);
  };

  return {
    delayFor,
    debit: (used) => {
      refill();
      tokens -= used;
    },
    take: async (wanted, signal) => {
      // A request larger than the bucket waits for a full bucket, then takes it all (never forever).
      for (let delay = delayFor(wanted); delay > 0; delay = delayFor(wanted))
        await clock.sleep(delay, signal);
      tokens -= Math.min(wanted, capacity);
    },
  };
};

export type RateLimit = Readonly<{ requestsPerSecond: number; burst: number }>;

export type Admission = Readonly<{ allowed: true }> | Readonly<{ allowed: false; retryAfterSeconds: number }>;

/**
 * A bucket per key (the gateway's per-tenant request limit): `burst` requests at once, refilled at
 * `requestsPerSecond`. Never waits: a request without a token is refused with when to come back.
 */
export const createTokenBuckets = (limit: RateLimit, now: () => number = Date.now) => {
  const clock: Clock = { now, sleep: systemClock.sleep };
  const buckets = new Map<string, TokenBucket>();
  return {
    take: (key: string): Admission => {
      const bucket = buckets.get(key) ?? createTokenBucket(limit.requestsPerSecond * 60, clock, limit.burst);
      buckets.set(key, bucket);
      const waitMs = bucket.delayFor(1);
      if (waitMs > 0) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
      bucket.debit(1);
      return { allowed: true };
    },
  };
};

export type TokenBuckets = ReturnType<typeof createTokenBuckets>;
