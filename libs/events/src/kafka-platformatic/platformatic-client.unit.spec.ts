import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../bus.ts';
import { partitionForKey } from '../bus/murmur2.ts';
import { javaCompatiblePartitioner, leveledLogger, routeClientLogs } from './platformatic-client.ts';

const recording = () => {
  const entries: [string, string, unknown][] = [];
  const at = (level: string) => (message: string, fields?: unknown) =>
    void entries.push([level, message, fields]);
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { entries, logger };
};

describe('@platformatic/kafka client support', () => {
  it('partitions keys as the in-process bus and kafkajs do, modulo the partition count', () => {
    for (let i = 0; i < 500; i++) {
      const key = `tenant-${i % 7}/session-${i}`;
      expect(javaCompatiblePartitioner(undefined, Buffer.from(key)) % 12).toBe(partitionForKey(key, 12));
    }
  });

  it('routes client events to our logger at their level, dropping those below the configured one', () => {
    const { entries, logger } = recording();
    const client = new EventEmitter();
    routeClientLogs(client, leveledLogger(logger, 'info'));
    client.emit('client:broker:failed', {
      broker: { host: '127.0.0.1', port: 1 },
      error: new Error('refused'),
    });
    client.emit('consumer:group:join', { groupId: 'g', memberId: 'm', assignments: [{ topic: 't' }] });
    client.emit('client:broker:connect', { broker: { host: '127.0.0.1', port: 1 } });
    client.emit('error', new Error('gave up'));
    expect(entries).toEqual([
      ['warn', 'platformatic-kafka client:broker:failed', { error: 'Error: refused' }],
      ['info', 'platformatic-kafka consumer:group:join', { groupId: 'g', memberId: 'm' }],
      ['error', 'platformatic-kafka error', { error: 'Error: gave up' }],
    ]);
  });
});
