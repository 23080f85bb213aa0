import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  activeIn,
  contextOf,
  currentTraceId,
  currentTraceparent,
  inSpan,
  startSpan,
  traceIdOf,
  traceparentOf,
} from './index.ts';
import { startTracing, tracesUrlOf } from './sdk.ts';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

describe('traceparent helpers without an SDK (no-op tracer)', () => {
  it('round-trips a traceparent through a context and a span', () => {
    const span = trace.getSpan(contextOf(PARENT));
    expect(span?.spanContext()).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      isRemote: true,
    });
    expect(traceparentOf(span)).toBe(PARENT);
  });

  it('ignores an invalid or absent traceparent, as W3C says', () => {
    expect(trace.getSpan(contextOf('garbage'))).toBeUndefined();
    expect(
      trace.getSpan(contextOf('00-00000000000000000000000000000000-00f067aa0ba902b7-01')),
    ).toBeUndefined();
    expect(trace.getSpan(contextOf(undefined))).toBeUndefined();
    expect(traceparentOf(undefined)).toBeUndefined();
  });

  it('reads the trace id of a traceparent, and none of anything else', () => {
    expect(traceIdOf(PARENT)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf('garbage')).toBeUndefined();
    expect(traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736')).toBeUndefined();
    expect(traceIdOf(undefined)).toBeUndefined();
  });

  it('keeps the caller’s traceparent on a span started under it', () => {
    expect(traceparentOf(startSpan('request', { traceparent: PARENT }))).toBe(PARENT);
  });
});

describe('spans with the SDK registered', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });
  beforeEach(() => exporter.reset());

  it('makes a child of the given traceparent, active for what the work awaits', async () => {
    const seen = await inSpan('append', { traceparent: PARENT }, async () => {
      await Promise.resolve();
      return { traceparent: currentTraceparent(), traceId: currentTraceId() };
    });
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('append');
    expect(span?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(seen.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(seen.traceparent).toMatch(TRACEPARENT);
    expect(
      contextOf(seen.traceparent) && trace.getSpan(contextOf(seen.traceparent))?.spanContext().spanId,
    ).toBe(span?.spanContext().spanId);
  });

  it('makes a span started elsewhere (a request hook) active for the work it wraps', async () => {
    const request = startSpan('GET /x', { traceparent: PARENT });
    const seen = await activeIn(request, async () => {
      await Promise.resolve();
      return currentTraceId();
    });
    request.end();
    expect(seen).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(currentTraceId()).toBeUndefined();
  });

  it('nests under the active span without a traceparent, and records a failure', async () => {
    await expect(
      inSpan('step', {}, () => inSpan('tool', {}, () => Promise.reject(new TypeError('boom')))),
    ).rejects.toThrow('boom');
    const [tool, step] = exporter.getFinishedSpans();
    expect(tool?.parentSpanContext?.spanId).toBe(step?.spanContext().spanId);
    expect(tool?.spanContext().traceId).toBe(step?.spanContext().traceId);
    expect(tool?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(tool?.attributes['error.type']).toBe('TypeError');
    expect(currentTraceparent()).toBeUndefined();
  });
});

describe('the OTLP traces URL', () => {
  it('is off unless an endpoint is configured; the signal-specific one wins', () => {
    expect(tracesUrlOf({ OTEL_BSP_SCHEDULE_DELAY: 5000 })).toBeUndefined();
    expect(
      tracesUrlOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_BSP_SCHEDULE_DELAY: 1 }),
    ).toBe('http://collector:4318/v1/traces');
    expect(
      tracesUrlOf({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/traces',
        OTEL_BSP_SCHEDULE_DELAY: 1,
      }),
    ).toBe('http://other:4318/traces');
  });
});

describe('startTracing without an OTLP endpoint (the default)', () => {
  it('exports nothing, yet every span has a trace id for events and log lines', async () => {
    const tracing = startTracing('agentledger-test', { OTEL_BSP_SCHEDULE_DELAY: 5000 });
    try {
      expect(tracing.exportUrl).toBeUndefined();
      const request = startSpan('POST /v1/sessions/:id/messages');
      const seen = await activeIn(request, async () => {
        await Promise.resolve();
        return { traceId: currentTraceId(), traceparent: currentTraceparent() };
      });
      request.end();
      expect(seen.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(seen.traceId).toBe(request.spanContext().traceId);
      expect(traceIdOf(seen.traceparent)).toBe(seen.traceId);
    } finally {
      await tracing.shutdown();
    }
    expect(currentTraceId()).toBeUndefined();
  });
});
