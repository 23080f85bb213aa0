export { OrchestratorModule } from './orchestrator.module.ts';
export { OrchestratorHttpModule, type ReadinessCheck } from './orchestrator-http.module.ts';
export { createOrchestratorMetrics, type OrchestratorMetrics } from './runtime/metrics.ts';
export {
  createOrchestrator,
  ORCHESTRATOR_GROUP,
  type Orchestrator,
  type OrchestratorDeps,
  type OrchestratorSettings,
} from './runtime/orchestrator.ts';
export { composeDistributed, type DistributedOrchestrator } from './compose.ts';
export { parseOrchestratorConfig, type OrchestratorConfig } from './orchestrator.config.ts';
