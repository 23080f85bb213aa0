/**
 * `@agentledger/orchestrator/runtime`: the orchestrator runtime without Nest, for any composition
 * (the distributed app, the embedded `npm start`, tests and benchmarks).
 */
export {
  createOrchestratorRuntime,
  type EffectiveSettings,
  type OrchestratorRuntime,
  type OrchestratorRuntimeDeps,
  type ReadinessCheck,
} from './orchestrator-runtime.ts';
export {
  orchestratorRuntimeConfigSchema,
  parseRuntimeConfig,
  type OrchestratorRuntimeConfig,
} from './runtime.config.ts';
export { createOrchestratorMetrics, type OrchestratorMetrics } from './metrics.ts';
export {
  createOrchestrator,
  ORCHESTRATOR_GROUP,
  type Orchestrator,
  type OrchestratorDeps,
  type OrchestratorSettings,
} from './orchestrator.ts';
