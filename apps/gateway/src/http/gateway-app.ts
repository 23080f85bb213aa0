import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { DynamicModule, LogLevel, Type } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import {
  createLogContext,
  metricsIn,
  nestLogger,
  observeHttp,
  type Logging,
} from '@agentledger/events/observability';
import { serveAuditPage } from '../audit/audit-page.ts';
import { ProblemFilter } from '../errors/problem.filter.ts';
import { METRICS_REGISTRY } from '../gateway.tokens.ts';
import { healthOperations } from '../health/health.api.ts';
import { buildOpenApiDocument } from '../openapi/openapi-document.ts';
import type { ApiOperation } from '../openapi/api-operation.ts';
import { sessionOperations } from '../sessions/sessions.api.ts';
import { teamOperations } from '../teams/teams.api.ts';
import { webhookOperations } from '../webhooks/webhooks.api.ts';
import { ActiveRequestSpan, traceRequests } from './request-spans.ts';

export type GatewayHttpOptions = Readonly<{
  /** Largest accepted request body; 413 beyond it. Default 1 MiB (BODY_LIMIT_BYTES). */
  bodyLimitBytes: number;
  /** Nest's own logger when `logging` is absent (tests). */
  logger?: false | LogLevel[];
  /** The process's pino logging: Nest's logger, request logs and the request log context. */
  logging?: Pick<Logging, 'root' | 'context'>;
  /** On close, connections still open after this long are cut (idle ones close at once). Default 1000. */
  shutdownGraceMs?: number;
}>;

export const gatewayOperations: readonly ApiOperation[] = [
  ...teamOperations,
  ...sessionOperations,
  ...webhookOperations,
  ...healthOperations,
];

/** JSON (and NDJSON bundles, as text) only: anything else is a 415; an empty JSON body reads as no body. */
const acceptJsonOnly = (fastify: FastifyInstance): void => {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    void parseJson(request, text, done);
  });
  fastify.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, (_request, body, done) => {
    done(null, body.toString());
  });
};

/** Bounded shutdown: a connection a client keeps open without a request cannot hold the close. */
const boundShutdown = (fastify: FastifyInstance, graceMs: number): void => {
  fastify.addHook('preClose', (done) => {
    const timer = setTimeout(() => fastify.server.closeAllConnections(), graceMs);
    timer.unref();
    fastify.server.once('close', () => clearTimeout(timer));
    done();
  });
};

const countRequests = (fastify: FastifyInstance, registry: Registry): void => {
  const counter = metricsIn(registry).counter({
    name: 'agentledger_gateway_http_requests_total',
    help: 'HTTP requests answered by the gateway',
    labelNames: ['method', 'route', 'status'] as const,
  });
  fastify.addHook('onResponse', async (request, reply) => {
    counter.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
  });
};

/**
 * The HTTP side every composition shares: Fastify with the body limit, JSON-only parsing, the
 * problem+json filter, request metrics, `/openapi.json`, `/docs` and the audit page (`/audit/`). `module` imports
 * `GatewayModule.register(...)` (alone, or beside the orchestrator's module in the standalone app).
 */
export const createGatewayApp = async (
  module: Type | DynamicModule,
  options: GatewayHttpOptions,
): Promise<NestFastifyApplication> => {
  const adapter = new FastifyAdapter({ bodyLimit: options.bodyLimitBytes });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bodyParser: false,
    logger: options.logging ? nestLogger(options.logging.root) : (options.logger ?? ['log', 'warn', 'error']),
  });
  const fastify = app.getHttpAdapter().getInstance();
  const registry = app.get<Registry>(METRICS_REGISTRY, { strict: false });
  acceptJsonOnly(fastify);
  traceRequests(fastify);
  boundShutdown(fastify, options.shutdownGraceMs ?? 1000);
  countRequests(fastify, registry);
  observeHttp(fastify, {
    registry,
    ...(options.logging ? { logger: options.logging.root } : {}),
    context: options.logging?.context ?? createLogContext(),
  });
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalInterceptors(new ActiveRequestSpan());
  const document = buildOpenApiDocument(gatewayOperations, '1.0.0') as unknown as OpenAPIObject;
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
  await serveAuditPage(fastify);
  return app;
};

/**
 * The HTTP port's listen queue: connections the kernel completed that the process has not accepted
 * yet. Node's default, 511, fills when a restarted gateway's clients all come back at once on a busy
 * machine; the kernel then drops their SYNs, and each client waits out TCP's retransmits (1 s, 3 s,
 * 7 s, …) before its request is even read. Linux caps it at `net.core.somaxconn` (4096 by default).
 */
export const LISTEN_BACKLOG = 4_096;

/** Listens on `port` and `host` with the gateway's listen queue (`LISTEN_BACKLOG`). */
export const listenGateway = async (
  app: NestFastifyApplication,
  at: Readonly<{ port: number; host: string }>,
): Promise<void> => {
  await app.listen({ port: at.port, host: at.host, backlog: LISTEN_BACKLOG });
};
