import { createTokenBucket, systemClock, type Clock, type TokenBucket } from '@agentledger/sessions';

/**
 * Requests and tokens per minute, one pair of buckets per model endpoint (by name). A call waits
 * for a request token and for the token bucket to be out of debt, then its real usage is debited
 * afterwards (usage is only known once the model answered), as providers' TPM limits count it.
 */
export type EndpointLimits = Readonly<{
  /** Resolves true when the call had to wait for a permit (a flow-control wait). */
  before: (endpoint: string, signal?: AbortSignal) => Promise<boolean>;
  after: (endpoint: string, tokens: number) => void;
}>;

export type EndpointLimitSettings = Readonly<{ requestsPerMinute?: number; tokensPerMinute?: number }>;

/**
 * `settings` apply to every endpoint; `perEndpoint` (the operator's endpoint config) overrides them
 * for the endpoints that set their own limits.
 */
export const createEndpointLimits = (
  defaults: EndpointLimitSettings,
  clock: Clock = systemClock,
  perEndpoint: (endpoint: string) => EndpointLimitSettings | undefined = () => undefined,
): EndpointLimits => {
  const limitsOf = (endpoint: string): EndpointLimitSettings => ({ ...defaults, ...perEndpoint(endpoint) });
  const requests = new Map<string, TokenBucket>();
  const tokens = new Map<string, TokenBucket>();
  const bucket = (map: Map<string, TokenBucket>, endpoint: string, perMinute: number): TokenBucket => {
    let found = map.get(endpoint);
    if (!found) {
      found = createTokenBucket(perMinute, clock);
      map.set(endpoint, found);
    }
    return found;
  };
  return {
    before: async (endpoint, signal) => {
      const settings = limitsOf(endpoint);
      let waited = false;
      if (settings.requestsPerMinute) {
        const perMinute = bucket(requests, endpoint, settings.requestsPerMinute);
        waited = perMinute.delayFor(1) > 0;
        await perMinute.take(1, signal);
      }
      if (settings.tokensPerMinute) {
        const perMinute = bucket(tokens, endpoint, settings.tokensPerMinute);
        waited = waited || perMinute.delayFor(0) > 0;
        await perMinute.take(0, signal);
      }
      return waited;
    },
    after: (endpoint, used) => {
      const settings = limitsOf(endpoint);
      if (settings.tokensPerMinute) bucket(tokens, endpoint, settings.tokensPerMinute).debit(used);
    },
  };
};
