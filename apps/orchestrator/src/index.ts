export { OrchestratorModule } from './orchestrator.module.ts';
export { OrchestratorHttpModule } from './orchestrator-http.module.ts';
export * from './runtime/index.ts';
export { composeDistributed, type DistributedOrchestrator } from './compose.ts';
export {
  orchestratorConfigSchema,
  parseOrchestratorConfig,
  type OrchestratorConfig,
} from './orchestrator.config.ts';
