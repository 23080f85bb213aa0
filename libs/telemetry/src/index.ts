import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

export { SpanKind, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';

/** The tracer name of every AgentLedger span (the instrumentation scope). */
export const TRACER_NAME = 'agentledger';

// Stateless: used directly, so the helpers work whether or not a process registered the SDK.
const w3c = new W3CTraceContextPropagator();

/**
 * The context whose remote parent is the W3C `traceparent`; `base` (default: no parent) when it is
 * absent or invalid, as W3C Trace Context says.
 */
export const contextOf = (traceparent: string | undefined, base: Context = ROOT_CONTEXT): Context =>
  traceparent === undefined ? base : w3c.extract(base, { traceparent }, defaultTextMapGetter);

/** The W3C `traceparent` naming `span` (undefined for a span without a valid context). */
export const traceparentOf = (span: Span | undefined): string | undefined => {
  if (span === undefined) return undefined;
  const carrier: Record<string, string> = {};
  w3c.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return carrier.traceparent;
};

/** The trace id a W3C `traceparent` names (`00-<trace id>-<span id>-<flags>`), if it names one. */
export const traceIdOf = (traceparent: string | undefined): string | undefined =>
  traceparent === undefined
    ? undefined
    : /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent)?.[1];

/** The `traceparent` of the span active here, if any. */
export const currentTraceparent = (): string | undefined => traceparentOf(trace.getActiveSpan());

/** The trace id of the work running here (for log lines), if any. */
export const currentTraceId = (): string | undefined => {
  const span = trace.getActiveSpan()?.spanContext();
  return span !== undefined && trace.isSpanContextValid(span) ? span.traceId : undefined;
};

export type SpanOptions = Readonly<{
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent, from an event or a message header; without one the span active here is the parent. */
  traceparent?: string;
}>;

const parentOf = (options: SpanOptions): Context =>
  options.traceparent === undefined ? context.active() : contextOf(options.traceparent);

/** Runs `work` with no active span: what it starts begins a trace of its own, unless given a parent. */
export const detached = <T>(work: () => T): T => context.with(ROOT_CONTEXT, work);

/** Runs `work` with `span` active: the spans it starts are its children, `currentTraceId()` its trace. */
export const activeIn = <T>(span: Span, work: () => T): T =>
  context.with(trace.setSpan(context.active(), span), work);

/** Starts a span the caller ends (a request whose end is seen by a hook, not by a callback). */
export const startSpan = (name: string, options: SpanOptions = {}): Span =>
  trace
    .getTracer(TRACER_NAME)
    .startSpan(
      name,
      { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
      parentOf(options),
    );

/** Marks `span` failed with `error` (the error's name and message only: never a payload). */
export const recordFailure = (span: Span, error: unknown): void => {
  const name = error instanceof Error ? error.name : 'Error';
  span.setAttribute('error.type', name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : name });
};

/**
 * Runs `work` inside a new span, active for everything it awaits; the span ends when it settles
 * and is marked failed when it throws.
 */
export const inSpan = async <T>(
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> => {
  const parent = parentOf(options);
  const span = startSpan(name, options);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    recordFailure(span, error);
    throw error;
  } finally {
    span.end();
  }
};
