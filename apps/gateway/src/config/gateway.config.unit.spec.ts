import { describe, expect, it } from 'vitest';
import { createTokenBuckets } from '../auth/token-bucket.ts';
import { parseGatewayConfig } from './gateway.config.ts';

describe('gateway configuration', () => {
  it('has defaults for everything', () => {
    expect(parseGatewayConfig({})).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 3000,
      GRPC_PORT: 50051,
      BODY_LIMIT_BYTES: 1024 * 1024,
      AGENTLEDGER_API_KEYS: [],
    });
  });

  it('reads tenant:key pairs; a key may contain a colon', () => {
    const config = parseGatewayConfig({ AGENTLEDGER_API_KEYS: 'tenantA:keyA, tenantB:key:B,' });
    expect(config.AGENTLEDGER_API_KEYS).toEqual([
      { tenantId: 'tenantA', key: 'keyA' },
      { tenantId: 'tenantB', key: 'key:B' },
    ]);
  });

  it('names every bad variable without echoing values', () => {
    const parse = () => parseGatewayConfig({ PORT: 'x', AGENTLEDGER_API_KEYS: 'no-separator-secret' });
    expect(parse).toThrow(/PORT/);
    expect(parse).toThrow(/AGENTLEDGER_API_KEYS/);
    expect(parse).not.toThrow(/no-separator-secret/);
  });
});

describe('per-tenant token buckets', () => {
  it('allows the burst, then asks to retry after the refill time, per tenant', () => {
    let now = 0;
    const buckets = createTokenBuckets({ requestsPerSecond: 2, burst: 3 }, () => now);
    expect([1, 2, 3].map(() => buckets.take('a').allowed)).toEqual([true, true, true]);
    expect(buckets.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(buckets.take('b').allowed).toBe(true);
    now = 500;
    expect(buckets.take('a').allowed).toBe(true);
  });
});
