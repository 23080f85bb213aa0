import { connect } from 'node:net';

/** Whether something accepts TCP connections at `host:port` within `timeoutMs`. */
export const accepts = (address: string, timeoutMs = 2_000): Promise<boolean> => {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
};

/**
 * Fails at once, naming the fix, when none of the brokers a benchmark needs answers (instead of the
 * clients' minutes of retries).
 */
export const requireKafka = async (brokers: readonly string[], what: string): Promise<void> => {
  for (const broker of brokers) if (await accepts(broker)) return;
  throw new Error(
    `${what} needs a Kafka broker and none answers at ${brokers.join(', ')}: start one with ` +
      '`bash scripts/infra.sh up`, or set KAFKA_BROKERS',
  );
};

/** The Kafka clients the product can run on (`KAFKA_CLIENT`), as the benchmarks name them. */
export type KafkaClient = 'kafkajs' | 'platformatic';
