import type { EffectDeps } from '@agentledger/agents';
import { sessionStreamId } from '@agentledger/events';
import { LeaseLost, type SessionEngine, type SessionLeases, type StepHooks } from '@agentledger/sessions';
import type { DeadlineTimers } from './deadline-timers.ts';
import type { OrchestratorMetrics } from './metrics.ts';
import type { TurnCancellation } from './turn-cancellation.ts';

export type WorkerDeps = Readonly<{
  engine: SessionEngine;
  leases: Pick<SessionLeases, 'acquire' | 'renew' | 'release'>;
  effects: Omit<EffectDeps, 'signal'>;
  hooks: StepHooks;
  /** This process incarnation's lease owner (replica id plus a per-start uuid). */
  leaseOwner: string;
  leaseTtlMs: number;
  /** Runs the session again after `delayMs` (a parked session). */
  reschedule: (delayMs: number) => void;
  metrics: OrchestratorMetrics;
  /** Aborted at the shutdown deadline: in-flight effects stop and their results are not recorded. */
  shutdown: AbortSignal;
  /** Where a recorded `TurnCancelled` finds this step to abort its in-flight call. */
  cancellation: TurnCancellation;
  /** The session's deadline timer: checked before the step, re-armed from the state it ends in. */
  deadlines: DeadlineTimers;
  /** Set when shutdown begins: no new step starts. */
  stopping: () => boolean;
  onError: (sessionId: string, error: unknown) => void;
}>;

/**
 * Holds a session's lease while the engine steps it: takes the lease (or leaves the session to its
 * owner), renews it while the session works, and lets `engine.step` run effects and record their
 * results fenced by the lease epoch. A lost lease stops the step; nothing it had not recorded is kept.
 */
export const runSession = async (
  deps: WorkerDeps,
  tenantId: string,
  sessionId: string,
  traceparent?: string,
): Promise<void> => {
  if (deps.stopping()) return;
  const lease = await deps.leases.acquire(tenantId, sessionId, deps.leaseOwner, deps.leaseTtlMs);
  if (!lease) return;
  deps.metrics.leasesHeld.inc();
  const lost = new AbortController();
  const renewal = setInterval(
    () => {
      deps.leases.renew(lease, deps.leaseTtlMs).then(
        (held) => held || lost.abort(new LeaseLost(sessionId, lease.epoch)),
        (error: unknown) => deps.onError(sessionId, error),
      );
    },
    Math.max(50, Math.floor(deps.leaseTtlMs / 3)),
  );
  const cancel = deps.cancellation.open(sessionStreamId(tenantId, sessionId));
  const signal = AbortSignal.any([deps.shutdown, lost.signal, cancel.signal]);
  try {
    // A deadline passed while nobody held the session (a crash, a restart) fires before any work.
    await deps.deadlines.check({ tenantId, sessionId }, await deps.engine.load(tenantId, sessionId));
    const outcome = await deps.engine.step({ tenantId, sessionId }, lease, signal, {
      effects: deps.effects,
      hooks: deps.hooks,
      keepGoing: () => !deps.stopping(),
      ...(traceparent === undefined ? {} : { traceparent }),
    });
    deps.deadlines.watch({ tenantId, sessionId }, outcome.state);
    if (outcome.status === 'lost' || lost.signal.aborted) deps.metrics.leasesLost.inc();
    if (outcome.status === 'parked' && outcome.delayMs !== undefined) deps.reschedule(outcome.delayMs);
  } catch (error) {
    if (lost.signal.aborted) deps.metrics.leasesLost.inc();
    else if (!signal.aborted) throw error;
  } finally {
    cancel.close();
    clearInterval(renewal);
    deps.metrics.leasesHeld.dec();
    await deps.leases.release(lease).catch((error: unknown) => deps.onError(sessionId, error));
  }
};
