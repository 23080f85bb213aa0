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

describe('sql event store: group commit on a driver that queues statements', () => {
  it('builds the batch when the statement starts: appends that arrive while it waits join it', async () => {
    const { driver } = recordingDriver();
    const started: (() => void)[] = [];
    const built: string[] = [];
    const queued: SqlDriver = {
      ...driver,
      queryWhenRun: async (build) => {
        await new Promise<void>((resolve) => started.push(resolve));
        const { text, values } = build();
        built.push(text);
        const streams = values[0] as string[];
        return streams.map((_, index) => ({
          ord: index + 1,
          positions: [String(index + 1)],
          next_version: 1,
          duplicate: false,
        }));
      },
    };
    const store = createSqlEventStore(queued, { groupCommit: { maxInFlight: 1 } });
    const appends = ['a', 'b', 'c'].map((id) =>
      store.append(`session-${id}`, [{ type: 'A', data: {} }], { tenantId: 't', expectedVersion: 'any' }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toHaveLength(1);
    started[0]!();
    const results = await Promise.all(appends);
    expect(built).toHaveLength(1);
    expect(built[0]).toContain('agentledger_append_batch');
    expect(results.map((result) => result.globalPositions)).toEqual([[1], [2], [3]]);
  });

  it('fails the waiting appends when the driver fails before building the statement', async () => {
    const { driver } = recordingDriver();
    const failing: SqlDriver = {
      ...driver,
      queryWhenRun: async () => {
        throw new Error('closed');
      },
    };
    const store = createSqlEventStore(failing, { groupCommit: { maxInFlight: 1 } });
    await expect(
      store.append('session-a', [{ type: 'A', data: {} }], { tenantId: 't', expectedVersion: 'any' }),
    ).rejects.toThrow('closed');
  });
});
