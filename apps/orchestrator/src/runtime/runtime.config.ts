import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { parseOperatorConfig, type OperatorRegistries } from '@agentledger/agents';

const positiveInt = z.coerce.number().int().positive();

/**
 * The settings of the orchestrator runtime itself, whatever store and bus it runs on: the
 * distributed app (`npm run start:orchestrator`) and the embedded one (`npm start`) both parse
 * every key of this schema and hand the result to `createOrchestratorRuntime`.
 */
export const orchestratorRuntimeConfigSchema = z.object({
  KAFKA_PARTITIONS: positiveInt
    .default(12)
    .describe(
      'Partitions of the session-events topic (created with this many) or of the embedded in-process bus; sessions are spread over them.',
    ),
  ORCHESTRATOR_GROUP: z
    .string()
    .min(1)
    .default('agentledger-orchestrator')
    .describe('Consumer group the replicas share.'),
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
  AGENTLEDGER_MCP_SERVERS: z
    .string()
    .optional()
    .describe('Operator MCP servers (a JSON object or a file path) whose tools team specs pin and call.'),
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
  SESSION_CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(256 * 1024 * 1024)
    .describe(
      'Estimated bytes of folded sessions kept in memory (least recently used out first; 0 keeps none): bounds memory by size, whatever the number of open sessions.',
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
});

/** What the parse adds to the schema's output: the replica id resolved, endpoints and MCP servers read. */
type Resolved = Readonly<{ REPLICA_ID: string }> & OperatorRegistries;

export type OrchestratorRuntimeConfig = Omit<z.output<typeof orchestratorRuntimeConfigSchema>, 'REPLICA_ID'> &
  Resolved;

/**
 * Parses the environment with `schema` (the runtime schema, or an app's schema extending it), reads
 * the model endpoints and resolves the replica id; throws naming every bad variable (values are
 * never echoed). One parse for every composition, so a key means the same in every mode.
 */
export const parseRuntimeConfig = <T extends z.ZodType<z.output<typeof orchestratorRuntimeConfigSchema>>>(
  schema: T,
  env: Readonly<Record<string, string | undefined>>,
  what: string,
): Omit<z.output<T>, 'REPLICA_ID'> & Resolved => {
  const parsed = parseOperatorConfig(schema, env, (path) => readFileSync(path, 'utf8'), what);
  const replicaId =
    parsed.REPLICA_ID ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  return { ...parsed, REPLICA_ID: replicaId };
};
