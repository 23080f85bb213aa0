export const ORCHESTRATOR = Symbol('ORCHESTRATOR');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
export const READINESS = Symbol('READINESS');
