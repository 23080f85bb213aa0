export type RateLimit = Readonly<{ requestsPerSecond: number; burst: number }>;

export type Admission = Readonly<{ allowed: true }> | Readonly<{ allowed: false; retryAfterSeconds: number }>;

/** Per-tenant token buckets: `burst` requests at once, refilled at `requestsPerSecond`. */
export const createTokenBuckets = (limit: RateLimit, now: () => number = Date.now) => {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take: (tenantId: string): Admission => {
      const time = now();
      const bucket = buckets.get(tenantId) ?? { tokens: limit.burst, at: time };
      bucket.tokens = Math.min(
        limit.burst,
        bucket.tokens + ((time - bucket.at) / 1000) * limit.requestsPerSecond,
      );
      bucket.at = time;
      buckets.set(tenantId, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / limit.requestsPerSecond)),
      };
    },
  };
};

export type TokenBuckets = ReturnType<typeof createTokenBuckets>;
