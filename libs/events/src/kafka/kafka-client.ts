import { Kafka, logLevel, type KafkaConfig, type logCreator } from 'kafkajs';
import type { Logger } from '../bus.ts';
import { quietLogger } from '../bus/bus-support.ts';

export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export type KafkaClientOptions = Readonly<{
  brokers: readonly string[];
  clientId?: string;
  /** kafkajs's own logs go here, with the namespace in the message. */
  logger?: Logger;
  /** The most detailed kafkajs level passed to the logger. Default 'warn'. */
  logLevel?: KafkaLogLevel;
  /** Extra kafkajs settings (ssl, sasl, timeouts), merged last. */
  config?: Partial<KafkaConfig>;
}>;

const levels: Record<KafkaLogLevel, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

/** Routes kafkajs log entries to our logger. */
export const kafkaLogCreator =
  (logger: Logger): logCreator =>
  () =>
  ({ namespace, level, log }) => {
    const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
    const text = `kafkajs ${namespace}: ${message}`;
    if (level === logLevel.ERROR) logger.error(text, fields);
    else if (level === logLevel.WARN) logger.warn(text, fields);
    else if (level === logLevel.INFO) logger.info(text, fields);
    else logger.debug(text, fields);
  };

/** A kafkajs client whose logs go to the injected logger. */
export const createKafkaClient = (options: KafkaClientOptions): Kafka =>
  new Kafka({
    clientId: options.clientId ?? 'agentledger',
    brokers: [...options.brokers],
    logLevel: levels[options.logLevel ?? 'warn'],
    logCreator: kafkaLogCreator(options.logger ?? quietLogger),
    connectionTimeout: 3_000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 5_000 },
    ...options.config,
  });
