import type { Checkpoint, CheckpointSigner } from '../audit/checkpoints.ts';

/**
 * A tenant's retention policy, set by the operator (never by a tenant): keep every session, or
 * close sessions idle for `closeIdleAfterDays` and delete closed ones `deleteClosedAfterDays`
 * after they closed (either may be left out).
 */
export type RetentionPolicy =
  | Readonly<{ kind: 'keep_forever' }>
  | Readonly<{ kind: 'expire'; closeIdleAfterDays?: number; deleteClosedAfterDays?: number }>;

/** The operator's policies: one per named tenant, a default for the others, the idempotency window. */
export type RetentionPolicies = Readonly<{
  default: RetentionPolicy;
  tenants: Readonly<Record<string, RetentionPolicy>>;
  /** Idempotency keys older than this are pruned: a retry after it is a new request. */
  idempotencyKeyHours: number;
}>;

/** What the policy looks at, per session (times in epoch milliseconds). */
export type RetentionCandidate = Readonly<{
  tenantId: string;
  sessionId: string;
  streamId: string;
  status: string;
  version: number;
  /** When the session's last event was recorded. */
  lastActivityAt: number;
  /** When `SessionClosed` says it closed; null unless closed. */
  closedAt: number | null;
  /** A worker holds an unexpired lease: the session is being worked on. */
  leased: boolean;
}>;

export type RetentionAction = Readonly<{ kind: 'close' | 'delete'; reason: string }>;

/** What a deleted session leaves behind: enough to prove what existed and why it went. */
export type Tombstone = Readonly<{
  tenantId: string;
  sessionId: string;
  streamId: string;
  headVersion: number;
  headHash: string;
  eventCount: number;
  /** The last signed checkpoint of the stream, if any was taken. */
  checkpoint: Omit<Checkpoint, 'tenant' | 'streamId'> | null;
  policy: unknown;
  deletedAt: string;
}>;

const DAY_MS = 86_400_000;

export const policyFor = (policies: RetentionPolicies, tenantId: string): RetentionPolicy =>
  policies.tenants[tenantId] ?? policies.default;

/**
 * What the policy does to one session at `now` (pure). Closed sessions past the delete age are
 * deleted (age from `SessionClosed`); other sessions idle past the close age are closed, unless a
 * worker holds them or a turn is running.
 */
export const decideRetention = (
  candidate: RetentionCandidate,
  policy: RetentionPolicy,
  now: number,
): RetentionAction | undefined => {
  if (policy.kind === 'keep_forever') return undefined;
  if (candidate.status === 'closed') {
    const days = policy.deleteClosedAfterDays;
    if (days === undefined) return undefined;
    const closedAt = candidate.closedAt ?? candidate.lastActivityAt;
    return now - closedAt >= days * DAY_MS
      ? { kind: 'delete', reason: `closed for ${days} day(s) or more` }
      : undefined;
  }
  const days = policy.closeIdleAfterDays;
  if (days === undefined || candidate.leased || candidate.status === 'running') return undefined;
  return now - candidate.lastActivityAt >= days * DAY_MS
    ? { kind: 'close', reason: `retention: idle for ${days} day(s) or more` }
    : undefined;
};

/**
 * Checks a tombstone's signed checkpoint: the signature, and that it names the recorded head (or
 * an earlier version). Without a signer or a checkpoint there is nothing to check.
 */
export const tombstoneProblem = (signer: CheckpointSigner | undefined, t: Tombstone): string | undefined => {
  if (signer === undefined || t.checkpoint === null) return undefined;
  const checkpoint: Checkpoint = { ...t.checkpoint, tenant: t.tenantId, streamId: t.streamId };
  if (checkpoint.keyId !== signer.keyId)
    return `checkpoint signed with key ${checkpoint.keyId}, not ${signer.keyId}`;
  if (!signer.verify(checkpoint)) return 'checkpoint signature does not verify';
  if (checkpoint.version > t.headVersion) return 'checkpoint beyond the recorded head';
  if (checkpoint.version === t.headVersion && checkpoint.hash !== t.headHash)
    return 'checkpoint hash differs from the recorded head';
  return undefined;
};
