import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '@agentledger/events/canonical';

/** What a checkpoint signs: a stream's head. */
export type StreamHead = Readonly<{ tenant: string; streamId: string; version: number; hash: string }>;

/** A signed head as stored: the signature (base64) is over `canonicalJson(head)`. */
export type Checkpoint = StreamHead &
  Readonly<{
    keyId: string;
    signature: string;
    signedAt: string;
  }>;

/** Where signed checkpoints live; one contract suite covers every adapter. */
export type CheckpointStore = Readonly<{
  /** Saving the same (tenant, stream, version, key) twice keeps the first. */
  save: (checkpoint: Checkpoint) => Promise<void>;
  /** The stream's checkpoints, oldest version first; another tenant's are never returned. */
  list: (tenant: string, streamId: string) => Promise<readonly Checkpoint[]>;
}>;

/** Signs heads with an Ed25519 private key and verifies them with its public key. */
export type CheckpointSigner = Readonly<{
  keyId: string;
  /** False in verify-only mode (a public key alone). */
  canSign: boolean;
  sign: (head: StreamHead, now: Date) => Checkpoint;
  verify: (checkpoint: Checkpoint) => boolean;
}>;

export class InvalidAuditKey extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAuditKey';
  }
}

const headOf = ({ tenant, streamId, version, hash }: StreamHead): StreamHead => ({
  tenant,
  streamId,
  version,
  hash,
});

const payload = (head: StreamHead): Buffer => Buffer.from(canonicalJson(headOf(head)), 'utf8');

const requireEd25519 = (key: KeyObject, name: string): KeyObject => {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InvalidAuditKey(
      `${name} must be an Ed25519 key, got ${key.asymmetricKeyType ?? 'a symmetric key'}`,
    );
  }
  return key;
};

/**
 * `privateKeyPem` signs (its public key is derived); `publicKeyPem` alone verifies only. PEM text,
 * never logged; the caller reads a file when the setting names one.
 */
export const createCheckpointSigner = ({
  keyId,
  privateKeyPem,
  publicKeyPem,
}: Readonly<{ keyId: string; privateKeyPem?: string; publicKeyPem?: string }>): CheckpointSigner => {
  const parse = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch {
      throw new InvalidAuditKey(`${what} is not a PEM key`);
    }
  };
  const privateKey =
    privateKeyPem === undefined
      ? undefined
      : requireEd25519(
          parse('AGENTLEDGER_AUDIT_SIGNING_KEY', () => createPrivateKey(privateKeyPem)),
          'AGENTLEDGER_AUDIT_SIGNING_KEY',
        );
  const publicKey =
    privateKey !== undefined
      ? createPublicKey(privateKey)
      : publicKeyPem !== undefined
        ? requireEd25519(
            parse('AGENTLEDGER_AUDIT_PUBLIC_KEY', () => createPublicKey(publicKeyPem)),
            'AGENTLEDGER_AUDIT_PUBLIC_KEY',
          )
        : undefined;
  if (publicKey === undefined) throw new InvalidAuditKey('a signing key or a public key is required');
  return {
    keyId,
    canSign: privateKey !== undefined,
    sign: (head, now) => {
      if (privateKey === undefined) throw new InvalidAuditKey('verify-only: no signing key configured');
      return {
        ...headOf(head),
        keyId,
        signature: sign(null, payload(head), privateKey).toString('base64'),
        signedAt: now.toISOString(),
      };
    },
    verify: (checkpoint) => {
      try {
        return verify(null, payload(checkpoint), publicKey, Buffer.from(checkpoint.signature, 'base64'));
      } catch {
        return false;
      }
    },
  };
};

/** The public key (SPKI PEM) of a signing key: what auditors get to verify with. */
export const publicKeyPemOf = (privateKeyPem: string): string =>
  createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();

export type CheckpointProblem = Readonly<{
  version: number;
  reason: 'bad_signature' | 'hash_mismatch' | 'beyond_head' | 'unknown_key';
  message: string;
}>;

export type CheckpointVerdict = Readonly<{
  enabled: boolean;
  /** How many checkpoints the stream has. */
  signed: number;
  /** The highest version whose signed checkpoint verified, null when none did. */
  lastVerified: number | null;
  valid: boolean;
  problems: readonly CheckpointProblem[];
}>;

/**
 * Checks a stream's checkpoints against its stored events: each signature with the public key,
 * each signed hash against the event at that version (a history rewritten with recomputed hashes no
 * longer matches), and each signed version against the head (a deleted tail).
 */
export const verifyCheckpoints = (
  signer: CheckpointSigner | undefined,
  checkpoints: readonly Checkpoint[],
  events: readonly Readonly<{ version: number; hash: string }>[],
): CheckpointVerdict => {
  if (signer === undefined) {
    return { enabled: false, signed: checkpoints.length, lastVerified: null, valid: true, problems: [] };
  }
  const hashAt = new Map(events.map((e) => [e.version, e.hash]));
  const head = events.reduce((max, e) => Math.max(max, e.version), 0);
  const problems: CheckpointProblem[] = [];
  let lastVerified: number | null = null;
  for (const checkpoint of checkpoints) {
    const { version } = checkpoint;
    if (checkpoint.keyId !== signer.keyId) {
      problems.push({
        version,
        reason: 'unknown_key',
        message: `signed with key ${checkpoint.keyId}, not ${signer.keyId}`,
      });
    } else if (!signer.verify(checkpoint)) {
      problems.push({ version, reason: 'bad_signature', message: 'the signature does not verify' });
    } else if (version > head) {
      problems.push({
        version,
        reason: 'beyond_head',
        message: `signed version ${version} is beyond the head ${head}: the tail was deleted`,
      });
    } else if (hashAt.get(version) !== checkpoint.hash) {
      problems.push({
        version,
        reason: 'hash_mismatch',
        message: `the event at version ${version} no longer has the signed hash: history was rewritten`,
      });
    } else {
      lastVerified = Math.max(lastVerified ?? 0, version);
    }
  }
  return { enabled: true, signed: checkpoints.length, lastVerified, valid: problems.length === 0, problems };
};
