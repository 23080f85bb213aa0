import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { z } from 'zod';

/**
 * The tracing keys every app's config schema includes (standard OpenTelemetry names). Nothing is
 * exported unless the operator sets an OTLP endpoint: spans are still made (trace ids in events,
 * headers and logs), they just stay in the process.
 */
export const tracingConfigShape = {
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url()
    .optional()
    .describe(
      'OTLP/HTTP (JSON) collector base URL: spans go to `<url>/v1/traces`. Unset (and no traces endpoint): no span leaves the process.',
    ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z
    .url()
    .optional()
    .describe('Full OTLP/HTTP (JSON) URL for spans; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`.'),
  OTEL_SERVICE_NAME: z
    .string()
    .min(1)
    .optional()
    .describe(
      '`service.name` of this process’s spans (default: the app’s name, e.g. `agentledger-gateway`).',
    ),
  OTEL_BSP_SCHEDULE_DELAY: z.coerce
    .number()
    .int()
    .positive()
    .default(5000)
    .describe('Milliseconds between two exports of finished spans (when export is on).'),
};

export type TracingConfig = Readonly<{
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
  OTEL_BSP_SCHEDULE_DELAY: number;
}>;

export type Tracing = Readonly<{
  /** Where spans are exported, or undefined when nothing leaves the process. */
  exportUrl: string | undefined;
  /** Exports what is buffered, then stops: call once at shutdown. */
  shutdown: () => Promise<void>;
}>;

/** The OTLP traces URL the config names, if any (the signal-specific one is used as given). */
export const tracesUrlOf = (config: TracingConfig): string | undefined =>
  config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
  (config.OTEL_EXPORTER_OTLP_ENDPOINT === undefined
    ? undefined
    : `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`);

/**
 * Starts tracing for this process (its composition root calls it once, first): the async-context
 * manager, the W3C propagator and a tracer provider for `serviceName`, exporting over OTLP/HTTP
 * only when configured.
 */
export const startTracing = (serviceName: string, config: TracingConfig): Tracing => {
  const exportUrl = tracesUrlOf(config);
  const spanProcessors: SpanProcessor[] =
    exportUrl === undefined
      ? []
      : [
          new BatchSpanProcessor({
            exporter: new OTLPTraceExporter({ url: exportUrl }),
            scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY,
          }),
        ];
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors,
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    exportUrl,
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
};
