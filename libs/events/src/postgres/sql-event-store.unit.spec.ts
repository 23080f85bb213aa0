import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SqlDriver } from './sql-driver.ts';
import { createSqlEventStore, EVENTS_CHANNEL } from './sql-event-store.ts';

/** A driver that answers appends and records every statement; no database. */
const recordingDriver = () => {
  const statements: string[] = [];
  let position = 0;
  const driver: SqlDriver = {
    db: {} as SqlDriver['db'],
    query: async (text) => {
      statements.push(text);
      if (text.includes('agentledger_append(')) {
        position += 1;
        return [{ positions: [String(position)], next_version: 1, duplicate: false }];
      }
      return [];
    },
    queryArrays: async () => [],
    listen: async () => async () => undefined,
    close: async () => undefined,
  };
  return { driver, notifications: () => statements.filter((s) => s.includes('pg_notify')).length };
};

describe('sql event store: after-commit notifications', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('notifies listeners as soon as an append commits, without waiting for a timer', async () => {
    vi.useFakeTimers();
    const { driver, notifications } = recordingDriver();
    const store = createSqlEventStore(driver);
    await store.append('session-a', [{ type: 'A', data: {} }], { tenantId: 't', expectedVersion: 'any' });
    expect(notifications()).toBe(1);
    expect(EVENTS_CHANNEL).toBe('agentledger_events');
  });

  it('still waits when a delay is configured', async () => {
    vi.useFakeTimers();
    const { driver, notifications } = recordingDriver();
    const store = createSqlEventStore(driver, { notifyDelayMs: 20 });
    await store.append('session-a', [{ type: 'A', data: {} }], { tenantId: 't', expectedVersion: 'any' });
    expect(notifications()).toBe(0);
    await vi.advanceTimersByTimeAsync(20);
    expect(notifications()).toBe(1);
  });

  it('spaces notifications under a stream of appends: one per interval, the first at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { driver, notifications } = recordingDriver();
    const store = createSqlEventStore(driver, { notifyIntervalMs: 5 });
    const append = () =>
      store.append('session-a', [{ type: 'A', data: {} }], { tenantId: 't', expectedVersion: 'any' });
    await append();
    expect(notifications()).toBe(1);
    await append();
    await append();
    expect(notifications()).toBe(1);
    await vi.advanceTimersByTimeAsync(4);
    expect(notifications()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(notifications()).toBe(2);
    await vi.advanceTimersByTimeAsync(50);
    expect(notifications()).toBe(2);
    await append();
    expect(notifications()).toBe(3);
  });
});
