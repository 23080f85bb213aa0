import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The orchestrator's Prometheus metrics, registered in the registry it is given (never the global one). */
export type OrchestratorMetrics = ReturnType<typeof createOrchestratorMetrics>;

export const createOrchestratorMetrics = (registry: Registry) => ({
  sessionsInFlight: new Gauge({
    name: 'agentledger_sessions_in_flight',
    help: 'Sessions a worker of this replica is running now',
    registers: [registry],
  }),
  sessionsQueued: new Gauge({
    name: 'agentledger_sessions_queued',
    help: 'Sessions waiting for a free worker',
    registers: [registry],
  }),
  steps: new Counter({
    name: 'agentledger_steps_total',
    help: 'Worker steps by kind (model, selector, tool) and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  }),
  modelLatency: new Histogram({
    name: 'agentledger_model_call_seconds',
    help: 'Model call latency',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [registry],
  }),
  modelTokens: new Counter({
    name: 'agentledger_model_tokens_total',
    help: 'Model tokens by kind (prompt, completion)',
    labelNames: ['kind'] as const,
    registers: [registry],
  }),
  modelCallsInFlight: new Gauge({
    name: 'agentledger_model_calls_in_flight',
    help: 'Model calls in flight on this replica',
    registers: [registry],
  }),
  leasesHeld: new Gauge({
    name: 'agentledger_leases_held',
    help: 'Session leases this replica holds',
    registers: [registry],
  }),
  leasesLost: new Counter({
    name: 'agentledger_leases_lost_total',
    help: 'Appends rejected because another replica took the lease',
    registers: [registry],
  }),
  consumerLag: new Gauge({
    name: 'agentledger_consumer_lag_ms',
    help: 'Milliseconds between an event being recorded and this replica consuming it (last seen)',
    registers: [registry],
  }),
  recovered: new Counter({
    name: 'agentledger_sessions_recovered_total',
    help: 'Sessions claimed by the recovery scan',
    registers: [registry],
  }),
  abortedCalls: new Counter({
    name: 'agentledger_calls_aborted_total',
    help: 'Model and tool calls cut short on this replica because their turn was cancelled',
    labelNames: ['kind'] as const,
    registers: [registry],
  }),
  stalled: new Counter({
    name: 'agentledger_sessions_stalled_total',
    help: 'Sessions the watchdog marked stalled',
    registers: [registry],
  }),
});
