import { generateKeyPairSync } from 'node:crypto';
import { createInMemoryEventStore, type NewEvent } from '@agentledger/events';
import { eventually } from '@agentledger/testing';
import { describe, expect, it } from 'vitest';
import { createCheckpointSigner, InvalidAuditKey, publicKeyPemOf, verifyCheckpoints } from './checkpoints.ts';
import { startCheckpointer } from './checkpointer.ts';
import { createInMemoryCheckpointStore } from './memory-checkpoint-store.ts';

const pem = (): string =>
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const head = { tenant: 'tenant-a', streamId: 's1', version: 2, hash: 'a'.repeat(64) };
const events = [
  { version: 1, hash: 'f'.repeat(64) },
  { version: 2, hash: 'a'.repeat(64) },
];

describe('signed checkpoints', () => {
  it('verify with the derived public key alone; another key or an edited head does not verify', () => {
    const key = pem();
    const signer = createCheckpointSigner({ keyId: 'k1', privateKeyPem: key });
    const checkpoint = signer.sign(head, new Date('2026-01-01T00:00:00Z'));
    const verifier = createCheckpointSigner({ keyId: 'k1', publicKeyPem: publicKeyPemOf(key) });
    expect(verifier.canSign).toBe(false);
    expect(verifier.verify(checkpoint)).toBe(true);
    expect(verifier.verify({ ...checkpoint, hash: 'b'.repeat(64) })).toBe(false);
    expect(createCheckpointSigner({ keyId: 'k1', privateKeyPem: pem() }).verify(checkpoint)).toBe(false);
    expect(() => verifier.sign(head, new Date())).toThrow(InvalidAuditKey);
  });

  it('refuses keys that are not Ed25519 PEM, naming the setting', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(() => createCheckpointSigner({ keyId: 'k', privateKeyPem: rsa })).toThrow(
      /AGENTLEDGER_AUDIT_SIGNING_KEY must be an Ed25519 key/,
    );
    expect(() => createCheckpointSigner({ keyId: 'k', publicKeyPem: 'nope' })).toThrow(
      /AGENTLEDGER_AUDIT_PUBLIC_KEY is not a PEM key/,
    );
  });

  it('reports a rewritten hash, a deleted tail and a forged signature at their versions', () => {
    const signer = createCheckpointSigner({ keyId: 'k1', privateKeyPem: pem() });
    const at = new Date('2026-01-01T00:00:00Z');
    const good = signer.sign(head, at);
    expect(verifyCheckpoints(signer, [good], events)).toEqual({
      enabled: true,
      signed: 1,
      lastVerified: 2,
      valid: true,
      problems: [],
    });
    const rewritten = verifyCheckpoints(signer, [good], [events[0]!, { version: 2, hash: 'c'.repeat(64) }]);
    expect(rewritten).toMatchObject({ valid: false, problems: [{ version: 2, reason: 'hash_mismatch' }] });
    const truncated = verifyCheckpoints(signer, [good], [events[0]!]);
    expect(truncated).toMatchObject({ valid: false, problems: [{ version: 2, reason: 'beyond_head' }] });
    const forged = verifyCheckpoints(
      signer,
      [{ ...good, signature: signer.sign({ ...head, version: 1 }, at).signature }],
      events,
    );
    expect(forged).toMatchObject({ valid: false, problems: [{ version: 2, reason: 'bad_signature' }] });
    expect(verifyCheckpoints(undefined, [good], events)).toMatchObject({ enabled: false, valid: true });
  });

  it('signs the head when a turn ends and, on flush, heads that moved since', async () => {
    const store = createInMemoryEventStore();
    const checkpoints = createInMemoryCheckpointStore();
    const signer = createCheckpointSigner({ keyId: 'k1', privateKeyPem: pem() });
    const checkpointer = startCheckpointer({ store, checkpoints, signer, intervalMs: 0 });
    const ev = (type: string): NewEvent => ({ type, data: {} });
    await store.append('s1', [ev('TurnStarted'), ev('TurnCompleted')], {
      tenantId: 'tenant-a',
      expectedVersion: 'no_stream',
    });
    await eventually('the turn-end checkpoint', async () =>
      (await checkpoints.list('tenant-a', 's1')).length > 0 ? true : undefined,
    );
    expect((await checkpoints.list('tenant-a', 's1')).map((c) => c.version)).toEqual([2]);
    await store.append('s1', [ev('UserMessageReceived')], { tenantId: 'tenant-a', expectedVersion: 2 });
    const [stored] = await store.readStream('s1', { tenantId: 'tenant-a', fromVersion: 3 });
    // The timer's work: the head moved past the turn's end, so flushing signs version 3.
    await eventually('the moved head', async () => ((await checkpointer.flush()) === 1 ? true : undefined));
    const list = await checkpoints.list('tenant-a', 's1');
    expect(list.map((c) => [c.version, c.hash])).toEqual([
      [2, (await store.readStream('s1', { tenantId: 'tenant-a', fromVersion: 2, toVersion: 2 }))[0]!.hash],
      [3, stored!.hash],
    ]);
    expect(list.every((c) => signer.verify(c))).toBe(true);
    await checkpointer.stop();
  });
});
