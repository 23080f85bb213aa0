import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';
import {
  activeIn,
  SpanKind,
  SpanStatusCode,
  startSpan,
  traceparentOf,
  type Span,
} from '@agentledger/telemetry';

const SPAN = Symbol('agentledger:request-span');

type TracedRequest = FastifyRequest & { [SPAN]?: Span };

const incomingTraceparent = (request: FastifyRequest): string | undefined => {
  const header = request.headers.traceparent;
  return typeof header === 'string' ? header : undefined;
};

/**
 * One server span per HTTP request, a child of the caller's `traceparent` header when it is valid
 * (a new trace otherwise), named by method and route; it ends with the response. The span is
 * active for the rest of the request, the later hooks included (the hooks that follow run inside
 * `done`): so every log line of the request, its `request completed` line too, names its trace.
 */
export const traceRequests = (fastify: FastifyInstance): void => {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const traceparent = incomingTraceparent(request);
    const span = startSpan(`${request.method} ${route}`, {
      kind: SpanKind.SERVER,
      ...(traceparent === undefined ? {} : { traceparent }),
      attributes: { 'http.request.method': request.method, 'http.route': route },
    });
    (request as TracedRequest)[SPAN] = span;
    activeIn(span, done);
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const span = (request as TracedRequest)[SPAN];
    span?.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span?.setStatus({ code: SpanStatusCode.ERROR });
    span?.end();
  });
};

/**
 * The `traceparent` the events this request appends carry: its server span's, or the caller's
 * header when no span is recorded (tracing not started).
 */
export const requestTraceparent = (request: FastifyRequest): string | undefined =>
  traceparentOf((request as TracedRequest)[SPAN]) ?? incomingTraceparent(request);

/**
 * Runs every route handler with its request's server span active, so the spans it starts are the
 * request's children and `currentTraceId()` (log lines) names the request's trace.
 */
export class ActiveRequestSpan implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const span = context.switchToHttp().getRequest<TracedRequest>()[SPAN];
    if (span === undefined) return next.handle();
    return new Observable((subscriber) => activeIn(span, () => next.handle().subscribe(subscriber)));
  }
}
