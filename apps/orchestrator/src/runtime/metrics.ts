import type { Registry } from 'prom-client';
import { metricsIn } from '@agentledger/events/observability';

/** The orchestrator's Prometheus metrics, registered in the registry it is given (never the global one). */
export type OrchestratorMetrics = ReturnType<typeof createOrchestratorMetrics>;

export const createOrchestratorMetrics = (registry: Registry) => {
  const metrics = metricsIn(registry);
  return {
    sessionsInFlight: metrics.gauge({
      name: 'agentledger_sessions_in_flight',
      help: 'Sessions a worker of this replica is running now',
    }),
    sessionsQueued: metrics.gauge({
      name: 'agentledger_sessions_queued',
      help: 'Sessions waiting for a free worker',
    }),
    steps: metrics.counter({
      name: 'agentledger_steps_total',
      help: 'Worker steps by kind (model, selector, tool) and outcome',
      labelNames: ['kind', 'outcome'] as const,
    }),
    modelLatency: metrics.histogram({
      name: 'agentledger_model_call_duration_seconds',
      help: 'Model call latency by endpoint (operator name) and model',
      labelNames: ['endpoint', 'model'] as const,
    }),
    modelTokens: metrics.counter({
      name: 'agentledger_model_tokens_total',
      help: 'Model tokens by endpoint, model and kind (prompt, completion)',
      labelNames: ['endpoint', 'model', 'kind'] as const,
    }),
    modelErrors: metrics.counter({
      name: 'agentledger_model_errors_total',
      help: 'Failed model calls by endpoint, model and error type (retryable ones included)',
      labelNames: ['endpoint', 'model', 'type'] as const,
    }),
    modelCallsInFlight: metrics.gauge({
      name: 'agentledger_model_calls_in_flight',
      help: 'Model calls in flight on this replica',
    }),
    toolLatency: metrics.histogram({
      name: 'agentledger_tool_call_duration_seconds',
      help: 'Tool call latency by tool',
      labelNames: ['tool'] as const,
    }),
    toolErrors: metrics.counter({
      name: 'agentledger_tool_errors_total',
      help: 'Tool calls that ended failed (or with an unknown outcome), by tool',
      labelNames: ['tool'] as const,
    }),
    flowWaits: metrics.counter({
      name: 'agentledger_flow_control_waits_total',
      help: 'Times work waited for a bound: model_calls, tool_calls, endpoint_rate (per-endpoint limits), consumer (paused)',
      labelNames: ['resource'] as const,
    }),
    flowWaitSeconds: metrics.histogram({
      name: 'agentledger_flow_control_wait_seconds',
      help: 'Time spent waiting for a model call, tool call or endpoint rate permit',
      labelNames: ['resource'] as const,
    }),
    leasesHeld: metrics.gauge({
      name: 'agentledger_leases_held',
      help: 'Session leases this replica holds',
    }),
    leasesLost: metrics.counter({
      name: 'agentledger_leases_lost_total',
      help: 'Runs that lost their lease to another replica (an append the fence rejected, or a heartbeat that found it taken)',
    }),
    consumerLagOffsets: metrics.gauge({
      name: 'agentledger_consumer_lag_offsets',
      help: 'Messages in the partition after the one this replica last consumed (when the bus reports the high watermark)',
      labelNames: ['partition'] as const,
    }),
    consumerLagSeconds: metrics.gauge({
      name: 'agentledger_consumer_lag_seconds',
      help: 'Seconds between an event being recorded and this replica consuming it (last seen), per partition',
      labelNames: ['partition'] as const,
    }),
    partitionsOwned: metrics.gauge({
      name: 'agentledger_partitions_owned',
      help: 'Partitions of the session-events topic assigned to this replica (1 per owned partition)',
      labelNames: ['partition'] as const,
    }),
    recovered: metrics.counter({
      name: 'agentledger_sessions_recovered_total',
      help: 'Sessions claimed by the recovery scan',
    }),
    abortedCalls: metrics.counter({
      name: 'agentledger_calls_aborted_total',
      help: 'Model and tool calls cut short on this replica because their turn was cancelled',
      labelNames: ['kind'] as const,
    }),
    stalled: metrics.counter({
      name: 'agentledger_sessions_stalled_total',
      help: 'Sessions the watchdog marked stalled',
    }),
    timedOut: metrics.counter({
      name: 'agentledger_turns_timed_out_total',
      help: 'Turns this replica ended by their timeout while they waited (a call, an approval, input)',
    }),
  };
};
