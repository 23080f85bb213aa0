import { DEFAULT_ENDPOINT, modelSpecFor, type SessionCommand } from '@agentledger/agents';
import type { ModelResult, StepHooks, TenantUsage, ToolAttempts } from '@agentledger/sessions';
import type { EndpointLimits } from '../flow/endpoint-limits.ts';
import type { Semaphore } from '../flow/semaphore.ts';
import type { OrchestratorMetrics } from './metrics.ts';

export type StepHooksDeps = Readonly<{
  index: TenantUsage & ToolAttempts;
  replicaId: string;
  modelCalls: Semaphore;
  toolCalls: Semaphore;
  /** Requests and tokens per minute per model endpoint. */
  endpoints: EndpointLimits;
  /**
   * A model call failed with a retryable error (429, 5xx, timeout) after the client's own retries:
   * how long to park the session before trying again, or undefined to record the failure.
   */
  park: (key: string) => number | undefined;
  metrics: OrchestratorMetrics;
  /** Model tokens a tenant may use per UTC day; past it model calls fail closed (never made). */
  tenantDailyTokenBudget?: number;
  clock: () => Date;
}>;

const outcomeOf = (command: SessionCommand | null): string => {
  if (!command) return 'skipped';
  if (command.type === 'RequestApproval') return 'approval_requested';
  return command.type === 'RecordToolResult' ? command.data.outcome : 'other';
};

const kindOf = (action: { kind: string }): 'selector' | 'model' =>
  action.kind === 'select_speaker' ? 'selector' : 'model';

/**
 * What the orchestrator adds around the engine's effects: semaphores, per-endpoint rate limits,
 * parking of retryable model failures, the tenant's daily token budget, attempt markers for
 * non-idempotent tools and metrics. The engine stays free of Nest and prom-client.
 */
export const createOrchestratorStepHooks = (deps: StepHooksDeps): StepHooks => ({
  metadata: { replicaId: deps.replicaId, actor: 'orchestrator' },
  claimAttempt: (lease, toolCallId) => deps.index.markAttempt(lease, toolCallId),
  aroundToolCall: (run, { signal }) =>
    deps.toolCalls.run(async () => {
      const command = await run();
      deps.metrics.steps.inc({ kind: 'tool', outcome: outcomeOf(command) });
      return command;
    }, signal),
  aroundModelCall: async (run, { state, action, signal }) => {
    const call = state.modelCalls[action.callId];
    const endpoint = (call && state.spec && modelSpecFor(state.spec, call)?.endpoint) || DEFAULT_ENDPOINT;
    const command = await deps.modelCalls.run(async () => {
      await deps.endpoints.before(endpoint, signal);
      deps.metrics.modelCallsInFlight.inc();
      const stop = deps.metrics.modelLatency.startTimer();
      try {
        return await run();
      } finally {
        stop();
        deps.metrics.modelCallsInFlight.dec();
      }
    }, signal);
    // A retryable failure is counted by `park` (parked, or recorded as failed).
    if (command && !(command.data.outcome === 'failed' && command.data.error.retryable))
      deps.metrics.steps.inc({ kind: kindOf(action), outcome: command.data.outcome });
    if (command?.data.outcome === 'completed') {
      const { promptTokens, completionTokens } = command.data.usage;
      deps.endpoints.after(endpoint, promptTokens + completionTokens);
      deps.metrics.modelTokens.inc({ kind: 'prompt' }, promptTokens);
      deps.metrics.modelTokens.inc({ kind: 'completion' }, completionTokens);
    }
    return command;
  },
  park: ({ tenantId, sessionId, action }) => {
    const delayMs = deps.park(`${tenantId}/${sessionId}:${action.callId}`);
    deps.metrics.steps.inc({ kind: kindOf(action), outcome: delayMs === undefined ? 'failed' : 'parked' });
    return delayMs;
  },
  beforeModelCall: async ({ state, action }): Promise<ModelResult | undefined> => {
    if (deps.tenantDailyTokenBudget === undefined) return undefined;
    const used = await deps.index.tenantTokensToday(state.tenantId);
    if (used < deps.tenantDailyTokenBudget) return undefined;
    deps.metrics.steps.inc({ kind: kindOf(action), outcome: 'budget_exhausted' });
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
      now: deps.clock(),
    };
    return action.kind === 'select_speaker'
      ? { type: 'RecordSpeakerSelection', data, metadata }
      : { type: 'RecordModelCall', data, metadata };
  },
});
