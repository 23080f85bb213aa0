/**
 * The gateway as a library, for compositions (the standalone app): its Nest module over ports, the
 * HTTP setup every composition shares, and the adapters and helpers to build its dependencies.
 */
export { GatewayModule, type GatewayDeps, type GatewayOptions } from './gateway.module.ts';
export {
  createGatewayApp,
  gatewayOperations,
  LISTEN_BACKLOG,
  listenGateway,
  type GatewayHttpOptions,
} from './http/gateway-app.ts';
export { GrpcGateway, type GrpcOptions } from './grpc/grpc-gateway.ts';
export { SESSIONS_SERVICE, TEAMS_SERVICE } from './gateway.tokens.ts';
export { PROTO_FILES, PROTO_LOADER_OPTIONS, PROTO_ROOT } from './grpc/proto.ts';
export {
  parseGatewayConfig,
  gatewayConfigSchema,
  type ApiKeySeed,
  type GatewayConfig,
} from './config/gateway.config.ts';
export { composeDistributedGateway, type ComposedGateway } from './compose.ts';
export {
  generateApiKey,
  hashApiKey,
  seededApiKey,
  SCOPES,
  type ApiKeyRecord,
  type Principal,
  type Scope,
} from './auth/api-key.ts';
export type { ApiKeyAdmin, ApiKeyStore, ApiKeySummary } from './auth/api-key-store.port.ts';
export { createInMemoryApiKeyStore } from './auth/in-memory-api-key-store.ts';
export {
  apiKeysTable,
  createPostgresApiKeyStore,
  GATEWAY_MIGRATIONS_FOLDER,
  migrateGatewayDatabase,
} from './auth/postgres-api-key-store.ts';
export { seedApiKeys } from './auth/seed-api-keys.ts';
export { migrateGatewayPglite, openPgliteApiKeys } from './auth/pglite-api-keys.ts';
export type { ReadinessCheck } from './health/readiness.ts';
export { createTeamSpecParser } from './teams/agents-team-spec-parser.ts';
export {
  createEventStoreTeamRepository,
  teamStreamId,
  TEAM_SPEC_PUT,
} from './teams/event-store-team-repository.ts';
export type { StoredTeam, TeamRepository } from './teams/team-repository.port.ts';
export type { TeamSpecCheck, TeamSpecParser } from './teams/team-spec.ts';
export { createTeamsService, type TeamsService } from './teams/teams.service.ts';
export { composeWebhooks, type ComposedWebhooks, type WebhookConfig } from './webhooks/compose-webhooks.ts';
export { createSqlWebhookStore } from './webhooks/sql-webhook-store.ts';
