import { DEFAULT_ENDPOINT, isAbortedOutcome, modelSpecFor, type SessionCommand } from '@agentledger/agents';
import { sessionStreamId } from '@agentledger/events';
import type { Logger } from '@agentledger/events/bus';
import { boundedLabel, type LogContextStore } from '@agentledger/events/observability';
import type { ModelResult, StepHooks, TenantUsage, ToolAttempts } from '@agentledger/sessions';
import type { EndpointLimits } from '../flow/endpoint-limits.ts';
import type { Semaphore } from '../flow/semaphore.ts';
import type { DeadlineTimers } from './deadline-timers.ts';
import type { OrchestratorMetrics } from './metrics.ts';
import type { TurnCancellation } from './turn-cancellation.ts';

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
  logger: Logger;
  /** Model and tool calls run with their agent and call id in the log context. */
  logContext: LogContextStore;
  /** Model tokens a tenant may use per UTC day; past it model calls fail closed (never made). */
  tenantDailyTokenBudget?: number;
  clock: () => Date;
  cancellation: TurnCancellation;
  /** Armed for the session's nearest deadline before each call, so it fires while the call is out. */
  deadlines: Pick<DeadlineTimers, 'watch'>;
}>;

const outcomeOf = (command: SessionCommand | null): string => {
  if (!command) return 'skipped';
  if (command.type === 'RequestApproval') return 'approval_requested';
  return command.type === 'RecordToolResult' ? command.data.outcome : 'other';
};

const kindOf = (action: { kind: string }): 'selector' | 'model' =>
  action.kind === 'select_speaker' ? 'selector' : 'model';

/** Tells the cancellation registry which turn the effect about to start belongs to. */
const working = (
  deps: StepHooksDeps,
  tenantId: string,
  sessionId: string,
  turnId: string | undefined,
): void => {
  if (turnId !== undefined) deps.cancellation.working(sessionStreamId(tenantId, sessionId), turnId);
};

/**
 * What the orchestrator adds around the engine's effects: semaphores, per-endpoint rate limits,
 * parking of retryable model failures, the tenant's daily token budget, attempt markers for
 * non-idempotent tools and metrics. The engine stays free of Nest and prom-client.
 */
export const createOrchestratorStepHooks = (deps: StepHooksDeps): StepHooks => {
  const { metrics, logger } = deps;
  // Specs name endpoints and models, and a model may call a tool that does not exist: at most so
  // many distinct values of each in the metrics' labels.
  const endpointLabel = boundedLabel(50);
  const modelLabel = boundedLabel(50);
  const toolLabel = boundedLabel(100);
  /** Runs `work` holding a permit of `semaphore`, counting and timing the wait when there was one. */
  const withPermit = async <T>(
    semaphore: Semaphore,
    resource: string,
    work: () => Promise<T>,
    signal: AbortSignal,
  ): Promise<T> => {
    if (semaphore.available() > 0) return semaphore.run(work, signal);
    metrics.flowWaits.inc({ resource });
    const waiting = metrics.flowWaitSeconds.startTimer({ resource });
    return semaphore.run(async () => {
      waiting();
      return work();
    }, signal);
  };
  return {
    metadata: { replicaId: deps.replicaId, actor: 'orchestrator' },
    claimAttempt: (lease, toolCallId) => deps.index.markAttempt(lease, toolCallId),
    aroundToolCall: (run, { tenantId, sessionId, state, signal, call }) =>
      deps.logContext.run({ agent: call.agent, callId: call.toolCallId }, () => {
        deps.deadlines.watch({ tenantId, sessionId }, state);
        const tool = toolLabel(call.name);
        return withPermit(
          deps.toolCalls,
          'tool_calls',
          async () => {
            working(deps, tenantId, sessionId, state.turn?.turnId);
            const stop = metrics.toolLatency.startTimer({ tool });
            const command = await run().finally(() => stop());
            const outcome = outcomeOf(command);
            metrics.steps.inc({ kind: 'tool', outcome });
            if (command && isAbortedOutcome(command)) metrics.abortedCalls.inc({ kind: 'tool' });
            if (outcome !== 'completed' && command?.type === 'RecordToolResult')
              metrics.toolErrors.inc({ tool });
            logger.info('tool call finished', { tool: call.name, outcome });
            if (command?.type === 'RecordToolResult')
              logger.debug('tool call content', {
                arguments: call.arguments,
                result: command.data.outcome === 'completed' ? command.data.result : undefined,
              });
            return command;
          },
          signal,
        );
      }),
    aroundModelCall: async (run, { tenantId, sessionId, state, action, signal }) => {
      const call = state.modelCalls[action.callId];
      const spec = call && state.spec ? modelSpecFor(state.spec, call) : undefined;
      const endpoint = spec?.endpoint || DEFAULT_ENDPOINT;
      const labels = { endpoint: endpointLabel(endpoint), model: modelLabel(spec?.model ?? 'unknown') };
      deps.deadlines.watch({ tenantId, sessionId }, state);
      return deps.logContext.run({ agent: call?.agent, callId: action.callId }, async () => {
        const command = await withPermit(
          deps.modelCalls,
          'model_calls',
          async () => {
            const waiting = metrics.flowWaitSeconds.startTimer({ resource: 'endpoint_rate' });
            if (await deps.endpoints.before(endpoint, signal)) {
              metrics.flowWaits.inc({ resource: 'endpoint_rate' });
              waiting();
            }
            working(deps, tenantId, sessionId, state.turn?.turnId);
            metrics.modelCallsInFlight.inc();
            const stop = metrics.modelLatency.startTimer(labels);
            try {
              return await run();
            } finally {
              stop();
              metrics.modelCallsInFlight.dec();
            }
          },
          signal,
        );
        if (command && isAbortedOutcome(command)) metrics.abortedCalls.inc({ kind: kindOf(action) });
        // A retryable failure is counted by `park` (parked, or recorded as failed).
        if (command && !(command.data.outcome === 'failed' && command.data.error.retryable))
          metrics.steps.inc({ kind: kindOf(action), outcome: command.data.outcome });
        if (command?.data.outcome === 'failed') {
          metrics.modelErrors.inc({ ...labels, type: command.data.error.type });
          logger.warn('model call failed', { ...labels, error: command.data.error.type });
        }
        if (command?.data.outcome === 'completed') {
          const { promptTokens, completionTokens } = command.data.usage;
          deps.endpoints.after(endpoint, promptTokens + completionTokens);
          metrics.modelTokens.inc({ ...labels, kind: 'prompt' }, promptTokens);
          metrics.modelTokens.inc({ ...labels, kind: 'completion' }, completionTokens);
          logger.info('model call completed', {
            ...labels,
            latencyMs: command.data.latencyMs,
            promptTokens,
            completionTokens,
          });
          logger.debug('model call content', {
            content: command.data.content,
            toolCalls: command.data.toolCalls,
          });
        }
        return command;
      });
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
  };
};
