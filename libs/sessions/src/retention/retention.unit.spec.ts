import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCheckpointSigner } from '../audit/checkpoints.ts';
import {
  decideRetention,
  policyFor,
  tombstoneProblem,
  type RetentionCandidate,
  type Tombstone,
} from './retention.ts';

const DAY = 86_400_000;
const candidate = (over: Partial<RetentionCandidate> = {}): RetentionCandidate => ({
  tenantId: 'acme',
  sessionId: 's1',
  streamId: 'session-acme/s1',
  status: 'idle',
  version: 3,
  lastActivityAt: 0,
  closedAt: null,
  leased: false,
  ...over,
});
const expire = { kind: 'expire', closeIdleAfterDays: 7, deleteClosedAfterDays: 30 } as const;

describe('decideRetention', () => {
  it('keeps everything under keep_forever', () => {
    expect(
      decideRetention(candidate({ status: 'closed', closedAt: 0 }), { kind: 'keep_forever' }, 999 * DAY),
    ).toBeUndefined();
  });

  it('deletes a closed session once it has been closed for the policy’s days, counted from SessionClosed', () => {
    const closed = candidate({ status: 'closed', lastActivityAt: 0, closedAt: 5 * DAY });
    expect(decideRetention(closed, expire, 35 * DAY - 1)).toBeUndefined();
    expect(decideRetention(closed, expire, 35 * DAY)?.kind).toBe('delete');
    expect(decideRetention(closed, { kind: 'expire', closeIdleAfterDays: 1 }, 999 * DAY)).toBeUndefined();
  });

  it('closes an idle session past the close age unless a worker holds it or a turn runs', () => {
    expect(decideRetention(candidate(), expire, 7 * DAY - 1)).toBeUndefined();
    expect(decideRetention(candidate(), expire, 7 * DAY)).toEqual({
      kind: 'close',
      reason: 'retention: idle for 7 day(s) or more',
    });
    expect(decideRetention(candidate({ status: 'awaiting_approval' }), expire, 7 * DAY)?.kind).toBe('close');
    expect(decideRetention(candidate({ leased: true }), expire, 99 * DAY)).toBeUndefined();
    expect(decideRetention(candidate({ status: 'running' }), expire, 99 * DAY)).toBeUndefined();
    expect(
      decideRetention(candidate(), { kind: 'expire', deleteClosedAfterDays: 1 }, 99 * DAY),
    ).toBeUndefined();
  });

  it('takes the tenant’s own policy before the default', () => {
    const policies = {
      default: expire,
      tenants: { globex: { kind: 'keep_forever' as const } },
      idempotencyKeyHours: 24,
    };
    expect(policyFor(policies, 'globex')).toEqual({ kind: 'keep_forever' });
    expect(policyFor(policies, 'acme')).toBe(expire);
  });
});

describe('tombstoneProblem', () => {
  const signer = createCheckpointSigner({
    keyId: 'k1',
    privateKeyPem: generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  });
  const head = { tenant: 'acme', streamId: 'session-acme/s1', version: 4, hash: 'a'.repeat(64) };
  const { keyId, signature, signedAt, version, hash } = signer.sign(head, new Date(0));
  const tombstone: Tombstone = {
    tenantId: 'acme',
    sessionId: 's1',
    streamId: head.streamId,
    headVersion: 4,
    headHash: head.hash,
    eventCount: 4,
    checkpoint: { keyId, signature, signedAt, version, hash },
    policy: {},
    deletedAt: new Date(0).toISOString(),
  };

  it('accepts a tombstone whose checkpoint signs its head, or one without a checkpoint', () => {
    expect(tombstoneProblem(signer, tombstone)).toBeUndefined();
    expect(tombstoneProblem(signer, { ...tombstone, checkpoint: null })).toBeUndefined();
    expect(tombstoneProblem(undefined, { ...tombstone, headHash: 'x' })).toBeUndefined();
  });

  it('names a forged head, a moved stream or a foreign signature', () => {
    expect(tombstoneProblem(signer, { ...tombstone, headHash: 'b'.repeat(64) })).toContain('differs');
    expect(tombstoneProblem(signer, { ...tombstone, streamId: 'session-acme/other' })).toContain(
      'does not verify',
    );
    expect(tombstoneProblem(signer, { ...tombstone, headVersion: 3 })).toContain('beyond');
    expect(
      tombstoneProblem(signer, { ...tombstone, checkpoint: { ...tombstone.checkpoint!, keyId: 'k2' } }),
    ).toContain('key k2');
  });
});
