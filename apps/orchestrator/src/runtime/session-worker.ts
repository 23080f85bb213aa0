import {
  DEFAULT_ENDPOINT,
  modelSpecFor,
  nextAction,
  runModelCall,
  runToolCall,
  type EffectDeps,
  type NextAction,
  type RecordModelCall,
  type RecordSpeakerSelection,
  type SessionCommand,
  type Session,
  type ToolRegistry,
} from '@agentledger/agents';
import {
  LeaseLost,
  type Lease,
  type SessionLeases,
  type SessionRepository,
  type ToolAttempts,
} from '@agentledger/sessions';
import type { Semaphore } from '../flow/semaphore.ts';
import type { EndpointLimits } from '../flow/endpoint-limits.ts';
import type { OrchestratorMetrics } from './metrics.ts';

export type WorkerDeps = Readonly<{
  repository: SessionRepository;
  index: SessionLeases & ToolAttempts;
  effects: Omit<EffectDeps, 'signal'>;
  tools: ToolRegistry;
  replicaId: string;
  /** This process incarnation's lease owner (replica id plus a per-start uuid). */
  leaseOwner: string;
  leaseTtlMs: number;
  modelCalls: Semaphore;
  toolCalls: Semaphore;
  /** Requests and tokens per minute per model endpoint. */
  endpoints: EndpointLimits;
  /**
   * A model call failed with a retryable error (429, 5xx, timeout) after the client's own retries:
   * returns how long to park the session before trying again, or undefined to record the failure.
   */
  park: (callId: string) => number | undefined;
  /** Runs the session again after `delayMs` (a parked session). */
  reschedule: (delayMs: number) => void;
  metrics: OrchestratorMetrics;
  /** Model tokens a tenant may use per UTC day; past it model calls fail closed (never made). */
  tenantDailyTokenBudget?: number;
  /** Aborted at the shutdown deadline: in-flight effects stop and their results are not recorded. */
  shutdown: AbortSignal;
  /** Set when shutdown begins: no new step starts. */
  stopping: () => boolean;
  onError: (sessionId: string, error: unknown) => void;
}>;

type Runnable = Extract<NextAction, { kind: 'call_model' | 'select_speaker' | 'run_tools' }>;

const isRunnable = (action: NextAction): action is Runnable =>
  action.kind === 'call_model' || action.kind === 'select_speaker' || action.kind === 'run_tools';

/**
 * Runs one session until it has no runnable work: takes the lease (or leaves the session to its
 * owner), folds, asks `nextAction`, performs the effect, and records its result through the
 * repository fenced by the lease epoch. A lost lease stops the worker; nothing it had not
 * recorded is kept.
 */
export const runSession = async (deps: WorkerDeps, tenantId: string, sessionId: string): Promise<void> => {
  const lease = await deps.index.acquire(tenantId, sessionId, deps.leaseOwner, deps.leaseTtlMs);
  if (!lease) return;
  deps.metrics.leasesHeld.inc();
  const lost = new AbortController();
  const renewal = setInterval(
    () => {
      deps.index.renew(lease, deps.leaseTtlMs).then(
        (held) => held || lost.abort(new LeaseLost(sessionId, lease.epoch)),
        (error: unknown) => deps.onError(sessionId, error),
      );
    },
    Math.max(50, Math.floor(deps.leaseTtlMs / 3)),
  );
  const signal = AbortSignal.any([deps.shutdown, lost.signal]);
  try {
    while (!deps.stopping() && !signal.aborted) {
      const state = await deps.repository.load(tenantId, sessionId);
      if (!state) return;
      const action = nextAction(state);
      if (!isRunnable(action)) return;
      const performed = await perform(deps, lease, state, action, signal);
      if (performed === 'parked') return;
      const commands = performed;
      // Results of effects cut short by shutdown or a lost lease are dropped: the next owner
      // retries them (model calls, idempotent tools) or records them unknown-outcome.
      if (signal.aborted) return;
      for (const command of commands) {
        await deps.repository.execute(tenantId, sessionId, command, {
          lease,
          metadata: {
            replicaId: deps.replicaId,
            actor: 'orchestrator',
            correlationId: command.metadata.correlationId,
          },
        });
      }
    }
  } catch (error) {
    if (error instanceof LeaseLost || lost.signal.aborted) deps.metrics.leasesLost.inc();
    else if (!signal.aborted) throw error;
  } finally {
    clearInterval(renewal);
    deps.metrics.leasesHeld.dec();
    await deps.index.release(lease).catch((error: unknown) => deps.onError(sessionId, error));
  }
};

const perform = async (
  deps: WorkerDeps,
  lease: Lease,
  state: Session,
  action: Runnable,
  signal: AbortSignal,
): Promise<SessionCommand[] | 'parked'> => {
  const effects: EffectDeps = { ...deps.effects, signal };
  if (action.kind === 'run_tools') {
    const results = await Promise.all(
      action.calls.map((call) =>
        deps.toolCalls.run(async () => {
          // A non-idempotent tool gets a marker just before it runs (after its approval); a marker
          // left by an earlier owner means the call may have reached the outside world, so it is
          // not run again.
          const command = await runToolCall(effects, state, call, {
            claimAttempt: () => deps.index.markAttempt(lease, call.toolCallId),
          });
          deps.metrics.steps.inc({ kind: 'tool', outcome: outcomeOf(command) });
          return command;
        }, signal),
      ),
    );
    return results.filter((command): command is NonNullable<typeof command> => command !== null);
  }
  const exhausted = await tenantBudgetExhausted(deps, state, action);
  if (exhausted) return [exhausted];
  const call = state.modelCalls[action.callId];
  const endpoint = (call && state.spec && modelSpecFor(state.spec, call)?.endpoint) || DEFAULT_ENDPOINT;
  const command = await deps.modelCalls.run(async () => {
    await deps.endpoints.before(endpoint, signal);
    deps.metrics.modelCallsInFlight.inc();
    const stop = deps.metrics.modelLatency.startTimer();
    try {
      return await runModelCall(effects, state, action);
    } finally {
      stop();
      deps.metrics.modelCallsInFlight.dec();
    }
  }, signal);
  if (!command) return [];
  const kind = action.kind === 'select_speaker' ? 'selector' : 'model';
  if (command.data.outcome === 'failed' && command.data.error.retryable) {
    // Park instead of failing the turn: what the session did so far is in the log already.
    const delayMs = deps.park(action.callId);
    if (delayMs !== undefined) {
      deps.metrics.steps.inc({ kind, outcome: 'parked' });
      deps.reschedule(delayMs);
      return 'parked';
    }
  }
  deps.metrics.steps.inc({ kind, outcome: command.data.outcome });
  if (command.data.outcome === 'completed') {
    deps.endpoints.after(endpoint, command.data.usage.promptTokens + command.data.usage.completionTokens);
    deps.metrics.modelTokens.inc({ kind: 'prompt' }, command.data.usage.promptTokens);
    deps.metrics.modelTokens.inc({ kind: 'completion' }, command.data.usage.completionTokens);
  }
  return [command];
};

/** The failure recorded instead of a model call once the tenant's daily budget is spent. */
const tenantBudgetExhausted = async (
  deps: WorkerDeps,
  state: Session,
  action: Extract<Runnable, { kind: 'call_model' | 'select_speaker' }>,
): Promise<RecordModelCall | RecordSpeakerSelection | undefined> => {
  if (deps.tenantDailyTokenBudget === undefined) return undefined;
  const used = await deps.index.tenantTokensToday(state.tenantId);
  if (used < deps.tenantDailyTokenBudget) return undefined;
  deps.metrics.steps.inc({
    kind: action.kind === 'select_speaker' ? 'selector' : 'model',
    outcome: 'budget_exhausted',
  });
  const data = {
    callId: action.callId,
    outcome: 'failed' as const,
    error: {
      type: 'tenant_budget_exhausted',
      message: `tenant ${state.tenantId} used ${used} of its ${deps.tenantDailyTokenBudget} tokens today`,
      retryable: false,
    },
    latencyMs: 0,
  };
  const metadata = {
    commandId: `${state.sessionId}:${action.callId}:result`,
    correlationId: state.sessionId,
    now: deps.effects.clock(),
  };
  return action.kind === 'select_speaker'
    ? { type: 'RecordSpeakerSelection', data, metadata }
    : { type: 'RecordModelCall', data, metadata };
};

const outcomeOf = (command: SessionCommand | null): string => {
  if (!command) return 'skipped';
  if (command.type === 'RequestApproval') return 'approval_requested';
  return command.type === 'RecordToolResult' ? command.data.outcome : 'other';
};
