import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { Registry } from 'prom-client';
import type { LogContextStore } from './log-context.ts';
import { metricsIn } from './metrics.ts';

export type HttpObserverDeps = Readonly<{
  registry: Registry;
  /** Absent: requests are measured, not logged (tests that compose the app alone). */
  logger?: PinoLogger;
  context: LogContextStore;
  /** Routes answered without a request log line (probes and scrapes); still measured. */
  quietRoutes?: readonly string[];
}>;

type Principal = { tenantId?: string };

const sessionIdOf = (request: FastifyRequest): string | undefined => {
  const params = request.params as Record<string, unknown> | undefined;
  const id = params?.id;
  return typeof id === 'string' && (request.routeOptions.url ?? '').startsWith('/v1/sessions/')
    ? id
    : undefined;
};

const tenantOf = (request: FastifyRequest): string | undefined =>
  (request as FastifyRequest & { principal?: Principal }).principal?.tenantId;

/**
 * Every request runs in its own log context (the session id of `/v1/sessions/:id/…` routes), is
 * measured in `agentledger_http_request_duration_seconds{method,route,status}` and logged once when
 * answered, with its latency and tenant. Headers, query and body are never logged.
 */
export const observeHttp = (fastify: FastifyInstance, deps: HttpObserverDeps): void => {
  const latency = metricsIn(deps.registry).histogram({
    name: 'agentledger_http_request_duration_seconds',
    help: 'HTTP request latency by method, route (the pattern, not the path) and status',
    labelNames: ['method', 'route', 'status'] as const,
  });
  const quiet = new Set(deps.quietRoutes ?? ['/health/live', '/health/ready', '/metrics']);
  fastify.addHook('onRequest', (request, _reply, done) => {
    const sessionId = sessionIdOf(request);
    // The tenant is known once the API key guard has run: read at each line.
    deps.context.run(() => ({ sessionId, tenant: tenantOf(request) }), done);
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    latency.observe({ method: request.method, route, status: String(status) }, reply.elapsedTime / 1_000);
    if (deps.logger === undefined || quiet.has(route)) return;
    const tenant = tenantOf(request);
    const level = status >= 500 ? 'error' : 'info';
    deps.logger[level](
      {
        ...(tenant === undefined ? {} : { tenant }),
        method: request.method,
        route,
        status,
        latencyMs: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
  });
};
