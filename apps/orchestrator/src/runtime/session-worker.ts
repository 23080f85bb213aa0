import type { EffectDeps } from '@agentledger/agents';
import { sessionStreamId } from '@agentledger/events';
import { LeaseLost, type SessionEngine, type StepHooks } from '@agentledger/sessions';
import type { DeadlineTimers } from './deadline-timers.ts';
import type { LeaseKeeper } from './lease-keeper.ts';
import type { OrchestratorMetrics } from './metrics.ts';
import type { TurnCancellation } from './turn-cancellation.ts';

export type WorkerDeps = Readonly<{
  engine: SessionEngine;
  /** Takes and keeps (between runs) or releases the session's lease; its heartbeat renews it. */
  leases: Pick<LeaseKeeper, 'take' | 'keep' | 'release'>;
  effects: Omit<EffectDeps, 'signal'>;
  hooks: StepHooks;
  /** Runs the session again after `delayMs` (a parked session). */
  reschedule: (delayMs: number) => void;
  metrics: OrchestratorMetrics;
  /** Aborted at the shutdown deadline: in-flight effects stop and their results are not recorded. */
  shutdown: AbortSignal;
  /** Where a recorded `TurnCancelled` finds this step to abort its in-flight call. */
  cancellation: TurnCancellation;
  /** The session's deadline timer: checked before the step, re-armed from the state it ends in. */
  deadlines: DeadlineTimers;
  /**
   * The newest version of the session delivered to this replica (0 when none is known): with a
   * lease kept since the engine's last fenced append, a cached session at least this new is not
   * read again (`LoadOptions`).
   */
  delivered: (streamId: string) => number;
  /** Set when shutdown begins: no new step starts. */
  stopping: () => boolean;
  onError: (sessionId: string, error: unknown) => void;
}>;

/**
 * Holds a session's lease while the engine steps it: takes the lease (or leaves the session to its
 * owner), holds it while the session works (the keeper renews it), and lets `engine.step` run effects and record their
 * results fenced by the lease epoch. A lost lease stops the step; nothing it had not recorded is kept.
 * A run that ends with its lease held keeps it for the session's next run (`LeaseKeeper`).
 */
export const runSession = async (
  deps: WorkerDeps,
  tenantId: string,
  sessionId: string,
  traceparent?: string,
): Promise<void> => {
  if (deps.stopping()) return;
  // The keeper's heartbeat renews the lease; when it finds it taken, the step stops.
  const lost = new AbortController();
  const lease = await deps.leases.take(tenantId, sessionId, (taken) =>
    lost.abort(new LeaseLost(sessionId, taken.epoch)),
  );
  if (!lease) return;
  // Another replica took the session over (this one was too slow to renew): it retries or marks
  // unknown-outcome what this run did not record.
  const wasLost = (): void => {
    deps.metrics.leasesLost.inc();
    deps.onError(sessionId, new LeaseLost(sessionId, lease.epoch));
  };
  deps.metrics.leasesHeld.inc();
  const cancel = deps.cancellation.open(sessionStreamId(tenantId, sessionId));
  const signal = AbortSignal.any([deps.shutdown, lost.signal, cancel.signal]);
  let held = false;
  try {
    // A deadline passed while nobody held the session (a crash, a restart) fires before any work.
    const loaded = await deps.engine.load(tenantId, sessionId, { lease, seen: deps.delivered });
    const fired = await deps.deadlines.check({ tenantId, sessionId }, loaded);
    const outcome = await deps.engine.step({ tenantId, sessionId }, lease, signal, {
      // One load per run: the step starts from it unless the deadline just changed the session.
      ...(fired || loaded === undefined ? {} : { loaded }),
      effects: deps.effects,
      hooks: deps.hooks,
      keepGoing: () => !deps.stopping(),
      ...(traceparent === undefined ? {} : { traceparent }),
    });
    deps.deadlines.watch({ tenantId, sessionId }, outcome.state);
    if (outcome.status === 'lost' || lost.signal.aborted) wasLost();
    // A cancelled turn leaves the lease good for the next; shutdown gives it back.
    else held = !deps.shutdown.aborted;
    if (outcome.status === 'parked' && outcome.delayMs !== undefined) deps.reschedule(outcome.delayMs);
  } catch (error) {
    if (lost.signal.aborted) wasLost();
    else if (!signal.aborted) throw error;
  } finally {
    cancel.close();
    deps.metrics.leasesHeld.dec();
    if (held) deps.leases.keep(lease);
    else await deps.leases.release(lease);
  }
};
