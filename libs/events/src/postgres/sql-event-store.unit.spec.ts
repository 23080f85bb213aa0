import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SqlDriver } from './sql-driver.ts';
import { createSqlEventStore, EVENTS_CHANNEL } from './sql-event-store.ts';

/** A driver that answers appends and records every statement with its parameters; no database. */
const recordingDriver = () => {
  const statements: { text: string; values: readonly unknown[] }[] = [];
  let position = 0;
  const driver: SqlDriver = {
    db: {} as SqlDriver['db'],
    query: async (text, values = []) => {
      statements.push({ text, values });
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
  const appends = () => statements.filter(({ text }) => text.includes('agentledger_append'));
  return {
    driver,
    /** NOTIFY statements of their own (after commit). */
    notifications: () => statements.filter(({ text }) => text.startsWith('select pg_notify')).length,
    /** Appends that notify in their own statement, with the payload they send. */
    notifyingAppends: () =>
      appends()
        .filter(({ text }) => text.includes(`pg_notify('${EVENTS_CHANNEL}', $8)`))
        .map(({ values }) => values[7]),
  };
};

const appendTo = (store: ReturnType<typeof createSqlEventStore>, id = 'a') =>
  store.append(`session-${id}`, [{ type: 'A', data: {} }], { tenantId: 't', expectedVersion: 'any' });

describe('sql event store: notifications', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a lone append notifies in its own statement, with the store id: no NOTIFY of its own, no timer', async () => {
    vi.useFakeTimers();
    const { driver, notifications, notifyingAppends } = recordingDriver();
    const store = createSqlEventStore(driver);
    await appendTo(store);
    await appendTo(store);
    expect(notifications()).toBe(0);
    const payloads = notifyingAppends();
    expect(payloads).toHaveLength(2);
    // The id its own listener skips: every payload the same, a store's, not a position.
    expect(new Set(payloads).size).toBe(1);
    expect(payloads[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(EVENTS_CHANNEL).toBe('agentledger_events');
  });

  it('appends that overlap a running one notify after they commit, at once, one NOTIFY for several', async () => {
    vi.useFakeTimers();
    const { driver, notifications, notifyingAppends } = recordingDriver();
    const store = createSqlEventStore(driver);
    await Promise.all([appendTo(store, 'a'), appendTo(store, 'b'), appendTo(store, 'c')]);
    expect(notifyingAppends()).toHaveLength(1);
    expect(notifications()).toBe(1);
  });

  it('does not notify at all when notifications are off', async () => {
    const { driver, notifications, notifyingAppends } = recordingDriver();
    const store = createSqlEventStore(driver, { notify: 'off' });
    await Promise.all([appendTo(store, 'a'), appendTo(store, 'b')]);
    await appendTo(store);
    expect([notifications(), notifyingAppends().length]).toEqual([0, 0]);
  });

  it('still waits when a delay is configured', async () => {
    vi.useFakeTimers();
    const { driver, notifications } = recordingDriver();
    const store = createSqlEventStore(driver, { notifyDelayMs: 20 });
    await Promise.all([appendTo(store, 'a'), appendTo(store, 'b')]);
    expect(notifications()).toBe(0);
    await vi.advanceTimersByTimeAsync(20);
    expect(notifications()).toBe(1);
  });

  it('spaces notifications under a stream of overlapping appends: one per interval, the first at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { driver, notifications } = recordingDriver();
    const store = createSqlEventStore(driver, { notifyIntervalMs: 5 });
    const overlapping = () => Promise.all([appendTo(store, 'a'), appendTo(store, 'b')]);
    await overlapping();
    expect(notifications()).toBe(1);
    await overlapping();
    await overlapping();
    expect(notifications()).toBe(1);
    await vi.advanceTimersByTimeAsync(4);
    expect(notifications()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(notifications()).toBe(2);
    await vi.advanceTimersByTimeAsync(50);
    expect(notifications()).toBe(2);
    await overlapping();
    expect(notifications()).toBe(3);
  });
});

describe('sql event store: group commit on a driver that queues statements', () => {
  it('builds the batch when the statement starts: appends that arrive while it waits join it', async () => {
    const { driver, notifications } = recordingDriver();
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
    // The first started alone, so it was to notify in its statement; the batch function does not,
    // so the store notified after the commit.
    expect(built[0]).not.toContain('pg_notify');
    expect(notifications()).toBe(1);
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
