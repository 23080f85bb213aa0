import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { readModelEndpoints, type ModelEndpoints } from '@agentledger/agents';
import { tracingConfigShape } from '@agentledger/telemetry/sdk';

const positiveInt = z.coerce.number().int().positive();

/** The orchestrator's whole configuration, parsed once from the environment by the composition root. */
export const orchestratorConfigSchema = z.object({
  HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Interface the health and metrics server listens on.'),
  ORCHESTRATOR_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(3001)
    .describe('Health (`/health/*`) and metrics (`/metrics`) port.'),
  DATABASE_URL: z
    .url()
    .default('postgres://postgres@127.0.0.1:5432/agentledger')
    .describe('Postgres holding the event store, the read models and the leases.'),
  DATABASE_POOL_SIZE: positiveInt
    .default(10)
    .describe("Connections of this replica's pool (the relay's lock holds one more)."),
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .default('127.0.0.1:9092')
    .describe('Kafka bootstrap brokers, comma-separated.'),
  KAFKA_TOPIC: z
    .string()
    .min(1)
    .default('agentledger.session-events')
    .describe('Topic the relay publishes session events to.'),
  KAFKA_PARTITIONS: positiveInt
    .default(12)
    .describe('Partitions the topic is created with (the upper bound of useful replicas).'),
  ORCHESTRATOR_GROUP: z
    .string()
    .min(1)
    .default('agentledger-orchestrator')
    .describe('Consumer group the replicas share.'),
  KAFKA_CLIENT: z
    .enum(['kafkajs', 'platformatic'])
    .default('kafkajs')
    .describe(
      'Kafka client library behind the bus: `kafkajs`, or `platformatic` (`@platformatic/kafka`, maintained); same topic, keys and partitions.',
    ),
  KAFKA_SESSION_TIMEOUT_MS: positiveInt
    .default(10_000)
    .describe(
      'A consumer silent this long leaves the group; sessions of a dead replica are taken over by lease expiry first.',
    ),
  REPLICA_ID: z
    .string()
    .min(1)
    .optional()
    .describe('Unique per process; unset, the host name plus the pid and a random suffix.'),
  MAX_CONCURRENT_SESSIONS: positiveInt.default(64).describe('Sessions this replica works on at once.'),
  MAX_MODEL_CALLS: positiveInt.default(16).describe('Model calls in flight on this replica.'),
  MAX_TOOL_CALLS: positiveInt.default(32).describe('Tool calls in flight on this replica.'),
  AGENTLEDGER_MODEL_ENDPOINTS: z
    .string()
    .optional()
    .describe('Operator model endpoints (a JSON object or a file path), beside `default` from OPENAI_*.'),
  OPENAI_BASE_URL: z.string().optional().describe('Base URL of the `default` model endpoint.'),
  MODEL_REQUESTS_PER_MINUTE: positiveInt
    .optional()
    .describe(
      'Model requests per minute per model endpoint on this replica, unless the endpoint sets its own.',
    ),
  MODEL_TOKENS_PER_MINUTE: positiveInt
    .optional()
    .describe('Model tokens per minute per model endpoint on this replica.'),
  TENANT_DAILY_TOKEN_BUDGET: positiveInt
    .optional()
    .describe('Model tokens each tenant may use per UTC day; past it model calls fail closed.'),
  MAX_MODEL_PARKS: z.coerce
    .number()
    .int()
    .min(0)
    .default(5)
    .describe(
      'A model call failing with a retryable error parks its session up to this many times (backoff 0.5 s doubling).',
    ),
  LEASE_TTL_MS: positiveInt
    .default(15_000)
    .describe("Session lease lifetime; a dead owner's sessions are taken over after it."),
  RECOVERY_INTERVAL_MS: positiveInt
    .default(5_000)
    .describe('Period of the scan for sessions with pending work and a free lease.'),
  STALL_AFTER_MS: positiveInt
    .default(300_000)
    .describe(
      'A session with pending work and no progress this long is marked stalled (`SessionStalled`) and re-queued once.',
    ),
  SHUTDOWN_DEADLINE_MS: positiveInt
    .default(20_000)
    .describe('SIGTERM drains in-flight steps up to this long before leaving the group.'),
  MODEL_CALL_TIMEOUT_MS: positiveInt
    .default(120_000)
    .describe('A model call taking longer is aborted and recorded as a failed call (timeout).'),
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
  TOOLS_MODULE: z
    .string()
    .optional()
    .describe(
      'A module whose `tools` export (an array of `defineTool` results) is registered beside the built-ins.',
    ),
  LOG_LEVEL: z
    .enum(['error', 'warn', 'info', 'debug'])
    .default('info')
    .describe('Least severe log level written.'),
  ...tracingConfigShape,
});

export type OrchestratorConfig = z.output<typeof orchestratorConfigSchema> & {
  REPLICA_ID: string;
  MODEL_ENDPOINTS: ModelEndpoints;
};

/** Parses the environment, or throws naming every bad variable (values are never echoed). */
export const parseOrchestratorConfig = (
  env: Readonly<Record<string, string | undefined>>,
): OrchestratorConfig => {
  const result = orchestratorConfigSchema.safeParse(env);
  const endpoints = readModelEndpoints(env, (path) => readFileSync(path, 'utf8'));
  if (!result.success || 'problem' in endpoints) {
    const problems = [
      ...(result.success
        ? []
        : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)),
      ...('problem' in endpoints ? [endpoints.problem] : []),
    ];
    throw new Error(`Invalid orchestrator configuration:\n  ${problems.join('\n  ')}`);
  }
  const replicaId =
    result.data.REPLICA_ID ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  return { ...result.data, REPLICA_ID: replicaId, MODEL_ENDPOINTS: endpoints.endpoints };
};

/**
 * The consumer's group timing: `KAFKA_SESSION_TIMEOUT_MS`, and heartbeats a third of it apart (at
 * most 1 s, Kafka's advice), so a dead replica leaves its group only after this long and its
 * sessions are taken over by lease expiry (`LEASE_TTL_MS`) when that is shorter.
 */
export const kafkaConsumerTimingOf = (
  config: Pick<OrchestratorConfig, 'KAFKA_SESSION_TIMEOUT_MS'>,
): Readonly<{ sessionTimeoutMs: number; heartbeatIntervalMs: number }> => ({
  sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
  heartbeatIntervalMs: Math.max(1, Math.min(1_000, Math.floor(config.KAFKA_SESSION_TIMEOUT_MS / 3))),
});
