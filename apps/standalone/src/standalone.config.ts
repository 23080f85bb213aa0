import { z } from 'zod';
import { gatewayConfigSchema } from '@agentledger/gateway';
import { orchestratorRuntimeConfigSchema, parseRuntimeConfig } from '@agentledger/orchestrator/runtime';

/**
 * `npm start`'s configuration, parsed once from the environment by the composition root: the
 * gateway's HTTP, gRPC, key and limit settings, every setting of the orchestrator runtime (the same
 * keys, defaults and meaning as `npm run start:orchestrator`), plus the embedded mode's own.
 */
export const standaloneConfigSchema = gatewayConfigSchema
  .pick({
    HOST: true,
    PORT: true,
    GRPC_PORT: true,
    AGENTLEDGER_API_KEYS: true,
    BODY_LIMIT_BYTES: true,
    RATE_LIMIT_PER_SECOND: true,
    RATE_LIMIT_BURST: true,
    API_KEY_CACHE_TTL_MS: true,
    STREAM_POLL_INTERVAL_MS: true,
    AGENTLEDGER_AUDIT_SIGNING_KEY: true,
    AGENTLEDGER_AUDIT_PUBLIC_KEY: true,
    AGENTLEDGER_AUDIT_KEY_ID: true,
    AUDIT_CHECKPOINT_INTERVAL_MS: true,
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: true,
    WEBHOOK_SECRETS_KEY: true,
    WEBHOOK_RETRY_PERIOD_MS: true,
    WEBHOOK_INITIAL_BACKOFF_MS: true,
    WEBHOOK_MAX_BACKOFF_MS: true,
    WEBHOOK_TIMEOUT_MS: true,
    WEBHOOK_LEASE_MS: true,
    WEBHOOK_BATCH_SIZE: true,
    WEBHOOK_POLL_INTERVAL_MS: true,
    LOG_LEVEL: true,
    LOG_FORMAT: true,
    LOG_CONTENT: true,
    OTEL_EXPORTER_OTLP_ENDPOINT: true,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: true,
    OTEL_SERVICE_NAME: true,
    OTEL_BSP_SCHEDULE_DELAY: true,
  })
  .extend(orchestratorRuntimeConfigSchema.shape)
  .extend({
    DATA_DIR: z
      .string()
      .min(1)
      .default('.data')
      .describe('PGlite data and the development API key live here (kept between starts).'),
    EXAMPLES_DIR: z
      .string()
      .min(1)
      .default('examples')
      .describe('Team specs (`<teamId>.json`) put for the development tenant at start.'),
    DEV_TENANT: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/)
      .default('dev')
      .describe('Tenant of the development API key and the example teams.'),
  });

export type StandaloneConfig = ReturnType<typeof parseStandaloneConfig>;

export const parseStandaloneConfig = (env: Readonly<Record<string, string | undefined>>) =>
  parseRuntimeConfig(standaloneConfigSchema, env, 'configuration');
