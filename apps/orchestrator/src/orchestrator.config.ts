import { z } from 'zod';
import { logConfigShape } from '@agentledger/events/observability';
import { tracingConfigShape } from '@agentledger/telemetry/sdk';
import {
  orchestratorRuntimeConfigSchema,
  parseRuntimeConfig,
  type OrchestratorRuntimeConfig,
} from './runtime/runtime.config.ts';

const positiveInt = z.coerce.number().int().positive();

/**
 * The distributed orchestrator's whole configuration, parsed once from the environment by the
 * composition root: the runtime's settings plus where its Postgres, Kafka and HTTP server are.
 */
export const orchestratorConfigSchema = z
  .object({
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
    KAFKA_DELTAS_TOPIC: z
      .string()
      .min(1)
      .default('agentledger.session-deltas')
      .describe(
        "Ephemeral topic (one-minute retention, created beside the events topic) model calls stream their output to; gateways forward it to the session's live streams.",
      ),
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
  })
  .extend(orchestratorRuntimeConfigSchema.shape)
  .extend(logConfigShape)
  .extend(tracingConfigShape);

export type OrchestratorConfig = Omit<z.output<typeof orchestratorConfigSchema>, 'REPLICA_ID'> &
  OrchestratorRuntimeConfig;

/** Parses the environment, or throws naming every bad variable (values are never echoed). */
export const parseOrchestratorConfig = (
  env: Readonly<Record<string, string | undefined>>,
): OrchestratorConfig => parseRuntimeConfig(orchestratorConfigSchema, env, 'orchestrator configuration');

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
