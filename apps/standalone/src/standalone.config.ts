import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { readModelEndpoints, type ModelEndpoints } from '@agentledger/agents';
import { gatewayConfigSchema } from '@agentledger/gateway';

/**
 * `npm start`'s configuration, parsed once from the environment by the composition root: the
 * gateway's HTTP, gRPC, key and limit settings, plus the embedded mode's own.
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
    STREAM_POLL_INTERVAL_MS: true,
    AGENTLEDGER_MODEL_ENDPOINTS: true,
    OPENAI_BASE_URL: true,
    AGENTLEDGER_AUDIT_SIGNING_KEY: true,
    AGENTLEDGER_AUDIT_PUBLIC_KEY: true,
    AGENTLEDGER_AUDIT_KEY_ID: true,
    AUDIT_CHECKPOINT_INTERVAL_MS: true,
    OTEL_EXPORTER_OTLP_ENDPOINT: true,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: true,
    OTEL_SERVICE_NAME: true,
    OTEL_BSP_SCHEDULE_DELAY: true,
  })
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
    MAX_CONCURRENT_SESSIONS: z.coerce
      .number()
      .int()
      .positive()
      .default(32)
      .describe('Sessions worked on at once.'),
    MAX_MODEL_CALLS: z.coerce.number().int().positive().default(8).describe('Model calls in flight.'),
    MAX_TOOL_CALLS: z.coerce.number().int().positive().default(16).describe('Tool calls in flight.'),
    HTTP_TOOL_ALLOWED_HOSTS: z
      .string()
      .default('')
      .describe(
        '`host` or `host:port` entries the built-in `http_request` tool may call (host and port must match), comma-separated.',
      ),
    HTTP_TOOL_ALLOW_PRIVATE_ADDRESSES: z
      .stringbool()
      .default(false)
      .describe(
        'Let `http_request` reach private, loopback, link-local and metadata addresses (off by default).',
      ),
  });

export type StandaloneConfig = z.output<typeof standaloneConfigSchema> & { MODEL_ENDPOINTS: ModelEndpoints };

export const parseStandaloneConfig = (
  env: Readonly<Record<string, string | undefined>>,
): StandaloneConfig => {
  const result = standaloneConfigSchema.safeParse(env);
  const endpoints = readModelEndpoints(env, (path) => readFileSync(path, 'utf8'));
  if (result.success && 'endpoints' in endpoints)
    return { ...result.data, MODEL_ENDPOINTS: endpoints.endpoints };
  const problems = [
    ...(result.success
      ? []
      : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)),
    ...('problem' in endpoints ? [endpoints.problem] : []),
  ];
  throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
};
