import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, WebhookVerificationError } from './webhooks.ts';

// The Standard Webhooks specification's published example (also in its reference libraries' tests).
const spec = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const at = (seconds: number) => new Date(seconds * 1000);
const headersOf = (signature: string, id = spec.id, timestamp = String(spec.timestamp)) => ({
  'webhook-id': id,
  'webhook-timestamp': timestamp,
  'webhook-signature': signature,
});

describe('signWebhook', () => {
  it("reproduces the specification's test vector", () => {
    expect(signWebhook(spec)).toBe(spec.signature);
  });

  it('is base64 HMAC-SHA256 of id.timestamp.body keyed with the decoded secret', () => {
    const key = Buffer.from('c2VjcmV0LWJ5dGVzLWZvci10ZXN0', 'base64');
    const expected = createHmac('sha256', key).update('evt-1.1700000000.{"a":1}').digest('base64');
    expect(
      signWebhook({
        secret: 'whsec_c2VjcmV0LWJ5dGVzLWZvci10ZXN0',
        id: 'evt-1',
        timestamp: 1700000000,
        body: '{"a":1}',
      }),
    ).toBe(`v1,${expected}`);
  });
});

describe('verifyWebhook', () => {
  const verify = (overrides: Partial<Parameters<typeof verifyWebhook>[0]> = {}) =>
    verifyWebhook({
      secret: spec.secret,
      headers: headersOf(spec.signature),
      body: spec.body,
      now: at(spec.timestamp + 10),
      ...overrides,
    });

  it('accepts the test vector and returns the message id and timestamp', () => {
    expect(verify()).toEqual({ id: spec.id, timestamp: spec.timestamp });
  });

  it('accepts Headers and a list where one of several signatures matches', () => {
    const headers = new Headers(headersOf(`v1,AAAA v1a,xyz ${spec.signature}`));
    expect(verify({ headers }).id).toBe(spec.id);
  });

  it('accepts the body as bytes', () => {
    expect(verify({ body: new TextEncoder().encode(spec.body) }).id).toBe(spec.id);
  });

  it.each([
    ['a changed body', { body: '{"test": 2432232315}' }],
    ['another secret', { secret: 'whsec_c2VjcmV0LWJ5dGVzLWZvci10ZXN0' }],
    ['a changed id', { headers: headersOf(spec.signature, 'msg_other') }],
    ['a signature of another length', { headers: headersOf('v1,AAAA') }],
    ['an unknown signature version', { headers: headersOf(spec.signature.replace('v1,', 'v2,')) }],
  ])('rejects %s', (_name, overrides) => {
    expect(() => verify(overrides)).toThrow(/no matching webhook signature/);
  });

  it('rejects a timestamp outside the tolerance, either way', () => {
    expect(() => verify({ now: at(spec.timestamp + 301) })).toThrow(/outside the tolerance/);
    expect(() => verify({ now: at(spec.timestamp - 301) })).toThrow(/outside the tolerance/);
    expect(verify({ now: at(spec.timestamp + 30), toleranceSeconds: 30 }).id).toBe(spec.id);
    expect(() => verify({ now: at(spec.timestamp + 31), toleranceSeconds: 30 })).toThrow(
      WebhookVerificationError,
    );
  });

  it('rejects missing headers and a timestamp that is not seconds', () => {
    expect(() => verify({ headers: { 'webhook-id': spec.id } })).toThrow(/missing webhook-id/);
    expect(() => verify({ headers: headersOf(spec.signature, spec.id, '2021-02-25') })).toThrow(
      /Unix seconds/,
    );
  });
});
