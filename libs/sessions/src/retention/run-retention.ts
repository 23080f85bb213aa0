import type { SessionEngine, SessionRef } from '../engine/session-engine.ts';
import {
  decideRetention,
  policyFor,
  type RetentionCandidate,
  type RetentionPolicies,
  type RetentionPolicy,
  type Tombstone,
} from './retention.ts';

export type PruneCounts = Readonly<{ idempotencyKeys: number; toolCallAttempts: number }>;

/** Where retention reads and deletes; the SQL adapter serves Postgres and PGlite alike. */
export type RetentionStore = Readonly<{
  /** Tenants that have sessions, in order. */
  tenants: () => Promise<readonly string[]>;
  /** A page of a tenant's sessions, by session id after `after`. */
  candidates: (tenantId: string, after: string, limit: number) => Promise<readonly RetentionCandidate[]>;
  /**
   * Deletes the session whole (events, read model, keys, markers, checkpoints) and writes its
   * tombstone, in one transaction; undefined when it moved past `candidate.version` meanwhile.
   */
  deleteSession: (candidate: RetentionCandidate, policy: unknown, at: Date) => Promise<Tombstone | undefined>;
  /** Idempotency keys older than `before` and attempt markers of finished tool calls (counted only on a dry run). */
  prune: (options: Readonly<{ before: Date; tenantId?: string; dryRun: boolean }>) => Promise<PruneCounts>;
  tombstones: (tenantId?: string) => Promise<readonly Tombstone[]>;
}>;

export type RetentionDeps = Readonly<{
  store: RetentionStore;
  /** Appends `SessionClosed` through the session engine; false when it closed nothing. */
  closeSession: (ref: SessionRef, reason: string, now: Date) => Promise<boolean>;
  policies: RetentionPolicies;
  progress?: (
    update: Readonly<{ tenantId: string; examined: number; closed: number; deleted: number }>,
  ) => void;
}>;

export type RetentionOptions = Readonly<{
  now: Date;
  dryRun?: boolean;
  tenantId?: string;
  pageSize?: number;
}>;

export type TenantRetention = Readonly<{
  tenantId: string;
  policy: RetentionPolicy;
  examined: number;
  closed: readonly string[];
  deleted: readonly Readonly<{ sessionId: string; streamId: string; eventCount: number; headHash: string }>[];
  /** Chosen, then changed before deletion (a new event): left for the next run. */
  skipped: readonly string[];
}>;

export type RetentionReport = Readonly<{
  dryRun: boolean;
  now: string;
  tenants: readonly TenantRetention[];
  pruned: PruneCounts;
  totals: Readonly<{ examined: number; closed: number; deleted: number; events: number }>;
}>;

const runTenant = async (
  deps: RetentionDeps,
  tenantId: string,
  { now, dryRun = false, pageSize = 500 }: RetentionOptions,
): Promise<TenantRetention> => {
  const policy = policyFor(deps.policies, tenantId);
  const recorded = { ...policy, source: deps.policies.tenants[tenantId] ? 'tenant' : 'default' };
  const result = {
    tenantId,
    policy,
    examined: 0,
    closed: [] as string[],
    deleted: [] as TenantRetention['deleted'][number][],
    skipped: [] as string[],
  };
  if (policy.kind === 'keep_forever') return result;
  for (let after = ''; ;) {
    const page = await deps.store.candidates(tenantId, after, pageSize);
    for (const candidate of page) {
      result.examined += 1;
      const action = decideRetention(candidate, policy, now.getTime());
      if (action === undefined) continue;
      const ref = { tenantId, sessionId: candidate.sessionId };
      if (action.kind === 'close') {
        if (dryRun || (await deps.closeSession(ref, action.reason, now)))
          result.closed.push(candidate.sessionId);
        continue;
      }
      const tombstone = dryRun
        ? { streamId: candidate.streamId, eventCount: candidate.version, headHash: '' }
        : await deps.store.deleteSession(candidate, { ...recorded, rule: action.reason }, now);
      if (tombstone === undefined) result.skipped.push(candidate.sessionId);
      else result.deleted.push({ sessionId: candidate.sessionId, ...pick(tombstone) });
    }
    deps.progress?.({
      tenantId,
      examined: result.examined,
      closed: result.closed.length,
      deleted: result.deleted.length,
    });
    if (page.length < pageSize) return result;
    after = page.at(-1)!.sessionId;
  }
};

const pick = ({
  streamId,
  eventCount,
  headHash,
}: Pick<Tombstone, 'streamId' | 'eventCount' | 'headHash'>) => ({
  streamId,
  eventCount,
  headHash,
});

/**
 * One retention run at `now`: per tenant (or only `tenantId`), closes idle sessions and deletes
 * closed ones as its policy says (whole sessions, each with a tombstone), then prunes idempotency
 * keys past the window and attempt markers of finished tool calls. A dry run changes nothing and
 * reports what a run would do (deleted sessions without their head hash).
 */
export const runRetention = async (
  deps: RetentionDeps,
  options: RetentionOptions,
): Promise<RetentionReport> => {
  const all = await deps.store.tenants();
  const tenants = options.tenantId === undefined ? all : all.filter((t) => t === options.tenantId);
  const results: TenantRetention[] = [];
  for (const tenantId of tenants) results.push(await runTenant(deps, tenantId, options));
  const before = new Date(options.now.getTime() - deps.policies.idempotencyKeyHours * 3_600_000);
  const pruned = await deps.store.prune({
    before,
    dryRun: options.dryRun ?? false,
    ...(options.tenantId === undefined ? {} : { tenantId: options.tenantId }),
  });
  return {
    dryRun: options.dryRun ?? false,
    now: options.now.toISOString(),
    tenants: results,
    pruned,
    totals: {
      examined: results.reduce((n, r) => n + r.examined, 0),
      closed: results.reduce((n, r) => n + r.closed.length, 0),
      deleted: results.reduce((n, r) => n + r.deleted.length, 0),
      events: results.reduce((n, r) => n + r.deleted.reduce((m, d) => m + d.eventCount, 0), 0),
    },
  };
};

/** `closeSession` over the session engine: a `CloseSession` command whose id derives from the work. */
export const closeThroughEngine =
  (engine: Pick<SessionEngine, 'handle'>): RetentionDeps['closeSession'] =>
  async (ref, reason, now) => {
    const commandId = `retention-close:${ref.tenantId}/${ref.sessionId}@${now.toISOString()}`;
    const handled = await engine.handle(
      {
        type: 'CloseSession',
        data: { reason },
        metadata: { commandId, correlationId: commandId, now, actor: 'retention' },
      },
      ref,
    );
    return !handled.duplicate && handled.events.some((e) => e.type === 'SessionClosed');
  };
