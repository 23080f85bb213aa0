import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseOperatorConfig, type OperatorRegistries } from '@agentledger/agents';
import { logConfigShape } from '@agentledger/events/observability';
import { tracingConfigShape } from '@agentledger/telemetry/sdk';
import { CLIENT_ID_PATTERN } from '../http/validation.ts';

export type ApiKeySeed = Readonly<{ tenantId: string; key: string }>;

/** `tenantA:keyA,tenantB:keyB` → one seed per pair; a key may itself contain `:`. */
const apiKeySeeds = z
  .string()
  .default('')
  .transform((value, context): ApiKeySeed[] =>
    value
      .split(',')
      .map((pair) => pair.trim())
      .filter((pair) => pair !== '')
      .flatMap((pair) => {
        const separator = pair.indexOf(':');
        const tenantId = pair.slice(0, separator);
        const key = pair.slice(separator + 1);
        if (separator <= 0 || key === '' || !CLIENT_ID_PATTERN.test(tenantId)) {
          context.addIssue({ code: 'custom', message: 'expected tenant:key pairs separated by commas' });
          return [];
        }
        return [{ tenantId, key }];
      }),
  );

const port = z.coerce.number().int().min(0).max(65_535);

/**
 * The gateway's whole configuration, parsed once from the environment by the composition root.
 * The gateway only appends to the store (the relay, in the orchestrator, publishes events); Kafka
 * is read only for model output as it streams (KAFKA_BROKERS, optional).
 */
export const gatewayConfigSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1').describe('Interface the REST and gRPC servers listen on.'),
  PORT: port.default(3000).describe('REST port (also `/docs`, `/health/*`, `/metrics`, the audit page).'),
  GRPC_PORT: port.default(50051).describe('gRPC port (`agentledger.v1`).'),
  DATABASE_URL: z
    .url()
    .default('postgres://postgres@127.0.0.1:5432/agentledger')
    .describe('Postgres holding the event store, the read models and the API keys.'),
  KAFKA_PARTITIONS: z.coerce
    .number()
    .int()
    .positive()
    .default(12)
    .describe("Partitions of the session-events topic: the sessions read model records each session's one."),
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Kafka bootstrap brokers, comma-separated: live streams (SSE, gRPC StreamEvents) then carry model output as it streams (`delta`). Unset: they carry events only.',
    ),
  KAFKA_DELTAS_TOPIC: z
    .string()
    .min(1)
    .default('agentledger.session-deltas')
    .describe("The orchestrators' ephemeral topic of model output deltas (as KAFKA_DELTAS_TOPIC there)."),
  AGENTLEDGER_API_KEYS: apiKeySeeds.describe(
    'API keys to seed at start, `tenant:key` pairs separated by commas (stored hashed; values never logged).',
  ),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024)
    .describe('Largest accepted request body in bytes; 413 beyond it.'),
  RATE_LIMIT_PER_SECOND: z.coerce
    .number()
    .positive()
    .default(50)
    .describe('Requests per second each API key may make (token bucket refill); 429 beyond it.'),
  RATE_LIMIT_BURST: z.coerce
    .number()
    .int()
    .positive()
    .default(100)
    .describe('Token bucket size per API key.'),
  API_KEY_CACHE_TTL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(5000)
    .describe(
      'How long a found API key is trusted without a database lookup (0: every request looks it up); a key revoked or rotated from the CLI keeps working this long.',
    ),
  STREAM_POLL_INTERVAL_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(1000)
    .describe('Live streams wake on commits (LISTEN/NOTIFY); this is the fallback re-read period.'),
  TOOLS_MODULE: z
    .string()
    .optional()
    .describe("A module whose `tools` export names the application's tools (as for the orchestrator)."),
  AGENTLEDGER_MODEL_ENDPOINTS: z
    .string()
    .optional()
    .describe(
      'Operator model endpoints (a JSON object or a file path); team specs are checked against them.',
    ),
  AGENTLEDGER_MCP_SERVERS: z
    .string()
    .optional()
    .describe(
      'Operator MCP servers (a JSON object or a file path): name → stdio `command`/`args` or Streamable HTTP `url`, secret headers/env from `{env}`/`{file}`; team specs name them.',
    ),
  OPENAI_BASE_URL: z.string().optional().describe('Base URL of the `default` model endpoint.'),
  AGENTLEDGER_AUDIT_SIGNING_KEY: z
    .string()
    .optional()
    .describe(
      "Ed25519 private key (PEM text or a file path): signs each stream's head when a turn ends and on a timer. Unset: checkpoints are off.",
    ),
  AGENTLEDGER_AUDIT_PUBLIC_KEY: z
    .string()
    .optional()
    .describe(
      'Ed25519 public key (PEM text or a file path): verify-only, when the signing key is kept elsewhere.',
    ),
  AGENTLEDGER_AUDIT_KEY_ID: z
    .string()
    .optional()
    .describe('The id stored with each signature (default `default`).'),
  AGENTLEDGER_RETENTION: z
    .string()
    .optional()
    .describe(
      'Retention policies for `agentledger retention run` (a JSON object or a file path): `default` and per-tenant `tenants` policies (`keep_forever`, or `expire` with `closeIdleAfterDays` / `deleteClosedAfterDays`), `idempotencyKeyHours` (24). Unset: keep everything.',
    ),
  AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(60_000)
    .describe('How often heads that moved since their last checkpoint are signed (0: only at turn ends).'),
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: z
    .stringbool()
    .default(false)
    .describe(
      'Let webhook endpoints name private, loopback, link-local and metadata addresses, literally or through DNS (off by default; the rules of `http_request`).',
    ),
  WEBHOOK_SECRETS_KEY: z
    .string()
    .optional()
    .describe(
      'A 32-byte key (base64, or a file holding it) that seals webhook signing secrets at rest (AES-256-GCM). Unset: secrets are stored as issued.',
    ),
  WEBHOOK_RETRY_PERIOD_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(24 * 60 * 60 * 1000)
    .describe('How long a webhook delivery is retried before it is parked in the dead-letter list.'),
  WEBHOOK_INITIAL_BACKOFF_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(1_000)
    .describe('Wait after a failed webhook attempt; doubled after each further failure.'),
  WEBHOOK_MAX_BACKOFF_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 60 * 1000)
    .describe('Longest wait between two attempts of a webhook delivery.'),
  WEBHOOK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe('A webhook attempt without an answer within this time fails.'),
  WEBHOOK_LEASE_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(60_000)
    .describe(
      'A claimed webhook delivery not settled within this time (its process died) is sent again; keep it above the timeout.',
    ),
  WEBHOOK_BATCH_SIZE: z.coerce
    .number()
    .int()
    .positive()
    .default(16)
    .describe('Webhook deliveries attempted at once per process (each a different endpoint or session).'),
  WEBHOOK_POLL_INTERVAL_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(1_000)
    .describe('How often due webhook deliveries (retries, redeliveries) are looked for.'),
  ...logConfigShape,
  ...tracingConfigShape,
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema> & OperatorRegistries;

/** Parses the environment, or throws naming every bad variable (values are never echoed). */
export const parseGatewayConfig = (env: Readonly<Record<string, string | undefined>>): GatewayConfig =>
  parseOperatorConfig(
    gatewayConfigSchema,
    env,
    (path) => readFileSync(path, 'utf8'),
    'gateway configuration',
  );
