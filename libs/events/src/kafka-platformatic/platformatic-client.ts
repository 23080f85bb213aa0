import type { BaseOptions } from '@platformatic/kafka';
import type { Logger } from '../bus.ts';
import { quietLogger } from '../bus/bus-support.ts';
import { murmur2 } from '../bus/murmur2.ts';
import type { KafkaLogLevel } from '../kafka/kafka-client.ts';

export type PlatformaticClientOptions = Readonly<{
  brokers: readonly string[];
  clientId?: string;
  /** The client's connection, group and commit events go here (it has no logger of its own). */
  logger?: Logger;
  /** The most detailed level passed to the logger. Default 'warn'. */
  logLevel?: KafkaLogLevel;
  /** Extra client settings (tls, sasl, timeouts), merged last. */
  config?: Partial<BaseOptions>;
}>;

/** Connection settings shared by the producer, the consumers and the admin client. */
export const baseOptionsOf = (options: PlatformaticClientOptions, clientId?: string): BaseOptions => ({
  clientId: clientId ?? options.clientId ?? 'agentledger',
  bootstrapBrokers: [...options.brokers],
  connectTimeout: 3_000,
  timeout: 10_000,
  retries: 8,
  retryDelay: 300,
  ...options.config,
});

const rank: Record<KafkaLogLevel, number> = { nothing: 0, error: 1, warn: 2, info: 3, debug: 4 };

type Level = Exclude<KafkaLogLevel, 'nothing'>;

/** A logger that drops entries more detailed than `level`. */
export const leveledLogger = (logger: Logger = quietLogger, level: KafkaLogLevel = 'warn') => {
  const at =
    (entry: Level) =>
    (message: string, fields?: Readonly<Record<string, unknown>>): void => {
      if (rank[entry] <= rank[level]) logger[entry](`platformatic-kafka ${message}`, fields);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } satisfies Logger;
};

const describe = (payload: unknown): Record<string, unknown> => {
  if (payload instanceof Error) return { error: String(payload) };
  if (typeof payload !== 'object' || payload === null) return {};
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value instanceof Error) fields[name] = String(value);
    else if (typeof value !== 'object' || value === null) fields[name] = value;
  }
  return fields;
};

/**
 * Routes a client's events to our logger: connection failures and errors as warnings or errors,
 * group membership changes as info, the rest as debug. Also keeps an unhandled 'error' event from
 * crashing the process: the adapters recover (a new producer, a rejoining consumer).
 */
export const routeClientLogs = (client: object, logger: Logger): void => {
  const emitter = client as { on: (event: string, listener: (payload?: unknown) => void) => void };
  const route = (event: string, log: (message: string, fields?: Record<string, unknown>) => void) =>
    emitter.on(event, (payload) => log(event, describe(payload)));
  route('error', logger.error);
  route('client:broker:failed', logger.warn);
  route('client:broker:disconnect', logger.info);
  route('client:broker:connect', logger.debug);
  route('consumer:group:join', logger.info);
  route('consumer:group:leave', logger.info);
  route('consumer:group:rebalance', logger.info);
  route('consumer:group:autocommit:error', logger.warn);
  route('consumer:heartbeat:error', logger.warn);
  route('consumer:heartbeat:stalled', logger.warn);
};

/**
 * Kafka's Java-compatible default partitioner on our murmur2 (the one the in-process bus and
 * kafkajs' DefaultPartitioner use); the producer takes the result modulo the partition count.
 * The client's own `defaultPartitioner` masks differently (`>>> 0`) and would move keys.
 */
export const javaCompatiblePartitioner = (_message: unknown, key: Buffer | undefined): number =>
  key ? murmur2(key) & 0x7fffffff : 0;
