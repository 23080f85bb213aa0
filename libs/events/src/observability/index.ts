export { createLogContext, type LogContext, type LogContextStore } from './log-context.ts';
export {
  createLogging,
  createRootLogger,
  portLogger,
  urlPassword,
  type LogFormat,
  type Logging,
  type LoggingOptions,
} from './create-logger.ts';
export { logConfigShape } from './log-config.ts';
export { observeHttp, type HttpObserverDeps } from './http-observer.ts';
export { nestLogger } from './nest-logger.ts';
export { REDACTED, redactFields, scrubSecrets } from './redaction.ts';
export {
  boundedLabel,
  LATENCY_BUCKETS_SECONDS,
  metricsIn,
  registerSessionStatusGauge,
  type MetricsFactory,
} from './metrics.ts';
export type { Logger as PinoLogger } from 'pino';
export { measureAppends } from './measured-store.ts';
export {
  CLOSE_AFTER_DRAIN_MS,
  processShutdown,
  type ProcessShutdownOptions,
  type ShutdownStage,
} from './process-shutdown.ts';
