import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { uuidv7, type EventStore } from '@agentledger/events';
import { Registry } from 'prom-client';
import { ApiKeyGuard } from './auth/api-key.guard.ts';
import type { ApiKeyStore } from './auth/api-key-store.port.ts';
import { createAuthenticator } from './auth/authenticator.ts';
import {
  createSessionUseCases,
  createTokenBuckets,
  type LiveDeltas,
  type LiveEvents,
  type RateLimit,
  type SessionEngine,
  type SessionReadModel,
  type SessionUseCaseDeps,
  type SessionUseCases,
} from '@agentledger/sessions';
import {
  AUTHENTICATOR,
  GATEWAY_OPTIONS,
  METRICS_REGISTRY,
  READINESS_CHECKS,
  SESSIONS_SERVICE,
  SHUTDOWN,
  TEAMS_SERVICE,
  WEBHOOKS_SERVICE,
} from './gateway.tokens.ts';
import { GrpcGateway, type GrpcOptions } from './grpc/grpc-gateway.ts';
import { withKeyCache } from './auth/cached-api-key-store.ts';
import { HealthController } from './health/health.controller.ts';
import type { ReadinessCheck } from './health/readiness.ts';
import { SessionEventsHttpController } from './sessions/session-events.http.controller.ts';
import { SessionImportHttpController, SessionsHttpController } from './sessions/sessions.http.controller.ts';
import { createEventStoreTeamRepository } from './teams/event-store-team-repository.ts';
import type { TeamSpecParser } from './teams/team-spec.ts';
import type { TeamRepository } from './teams/team-repository.port.ts';
import { TeamsHttpController } from './teams/teams.http.controller.ts';
import { createTeamsService } from './teams/teams.service.ts';
import { WebhooksHttpController } from './webhooks/webhooks.http.controller.ts';
import type { WebhooksService } from './webhooks/webhooks.service.ts';

export type GatewayOptions = Readonly<{
  /** Per tenant, over REST and gRPC together. */
  rateLimit: RateLimit;
  /** How often a live stream (SSE, gRPC StreamEvents) reads again without news. Default 250 ms. */
  streamPollIntervalMs?: number;
  /** Serve gRPC too; absent: REST only. */
  grpc?: GrpcOptions;
  /**
   * How long a found API key is trusted without asking the key store again (withKeyCache);
   * default 0: every request looks its key up.
   */
  apiKeyCacheTtlMs?: number;
}>;

/** Everything the gateway needs from outside; the composition root (main.ts, standalone) supplies it. */
export type GatewayDeps = Readonly<{
  eventStore: EventStore;
  apiKeys: ApiKeyStore;
  /** Validates and normalises team specs (libs/agents' schema and AutoGen importer). */
  parseTeamSpec: TeamSpecParser;
  /** Default: team specs as event streams in `eventStore`. */
  teams?: TeamRepository;
  /** Sessions: fold, decide and append (libs/sessions), over the same `eventStore`. */
  sessionEngine: SessionEngine;
  /** The sessions read model; the gateway only lists it. */
  sessionIndex: Pick<SessionReadModel, 'list'>;
  /** Default: the system clock. */
  clock?: () => Date;
  /** Default: UUIDv7. */
  newId?: () => string;
  /** Wake-ups for live streams (createStoreLiveEvents); without it they poll. */
  liveEvents?: LiveEvents;
  /** Model output as it streams (createLiveDeltas over the deltas channel); without it, none. */
  liveDeltas?: LiveDeltas;
  /** Default: libs/sessions' use cases over the ports above. */
  sessions?: SessionUseCases;
  /** Default: a registry of its own; pass the process's to share one `/metrics`. */
  metrics?: Registry;
  /** Signed checkpoints for `GET …/audit`; absent: checkpoints are off. */
  audit?: SessionUseCaseDeps['audit'];
  /** Webhook endpoints and dead letters (`/v1/webhooks`); absent: those routes are not served. */
  webhooks?: WebhooksService;
  /** Run by `/health/ready`; default none (always ready). */
  readiness?: readonly ReadinessCheck[];
  options: GatewayOptions;
}>;

@Module({})
export class GatewayModule {
  /** The gateway's controllers and services over the given ports. */
  static register(deps: GatewayDeps): DynamicModule {
    const teams = deps.teams ?? createEventStoreTeamRepository(deps.eventStore);
    const shutdown = new AbortController();
    const providers: Provider[] = [
      { provide: GATEWAY_OPTIONS, useValue: deps.options },
      { provide: METRICS_REGISTRY, useValue: deps.metrics ?? new Registry() },
      { provide: READINESS_CHECKS, useValue: deps.readiness ?? [] },
      {
        provide: AUTHENTICATOR,
        useValue: createAuthenticator(
          withKeyCache(deps.apiKeys, { ttlMs: deps.options.apiKeyCacheTtlMs ?? 0 }),
          createTokenBuckets(deps.options.rateLimit),
        ),
      },
      { provide: TEAMS_SERVICE, useValue: createTeamsService({ teams, parseTeamSpec: deps.parseTeamSpec }) },
      {
        provide: SESSIONS_SERVICE,
        useValue:
          deps.sessions ??
          createSessionUseCases({
            store: deps.eventStore,
            engine: deps.sessionEngine,
            index: deps.sessionIndex,
            teams,
            parseTeamSpec: deps.parseTeamSpec,
            clock: deps.clock ?? (() => new Date()),
            newId: deps.newId ?? (() => uuidv7()),
            pollIntervalMs: deps.options.streamPollIntervalMs ?? 250,
            ...(deps.liveEvents === undefined ? {} : { live: deps.liveEvents }),
            ...(deps.liveDeltas === undefined ? {} : { deltas: deps.liveDeltas }),
            ...(deps.audit === undefined ? {} : { audit: deps.audit }),
            shutdown: shutdown.signal,
          }),
      },
      { provide: SHUTDOWN, useValue: shutdown },
      { provide: WEBHOOKS_SERVICE, useValue: deps.webhooks ?? null },
      GrpcGateway,
      ApiKeyGuard,
    ];
    return {
      module: GatewayModule,
      controllers: [
        HealthController,
        TeamsHttpController,
        SessionsHttpController,
        SessionImportHttpController,
        SessionEventsHttpController,
        ...(deps.webhooks === undefined ? [] : [WebhooksHttpController]),
      ],
      providers,
      exports: [
        METRICS_REGISTRY,
        AUTHENTICATOR,
        TEAMS_SERVICE,
        SESSIONS_SERVICE,
        WEBHOOKS_SERVICE,
        GrpcGateway,
      ],
    };
  }
}
