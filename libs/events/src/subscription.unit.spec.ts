import { eventually } from '@agentledger/testing';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from './envelope.ts';
import { GENESIS_HASH } from './hash.ts';
import type { Page, ReadAllOptions } from './store.ts';
import {
  createAppendSignal,
  sharedPageReads,
  startSubscription,
  type SubscriptionDeps,
} from './subscription.ts';

const event = (globalPosition: number): EventEnvelope => ({
  eventId: `00000000-0000-7000-8000-${String(globalPosition).padStart(12, '0')}`,
  streamId: 's',
  tenantId: 't',
  version: globalPosition,
  globalPosition,
  type: 'E',
  schemaVersion: 1,
  data: {},
  metadata: {},
  recordedAt: new Date(0).toISOString(),
  prevHash: GENESIS_HASH,
  hash: GENESIS_HASH,
});

/** A store of three events, its reads answered from memory; `over` replaces any dependency. */
const fakeDeps = (over: Partial<SubscriptionDeps> = {}): SubscriptionDeps => {
  const log = [event(1), event(2), event(3)];
  const signal = createAppendSignal();
  return {
    readAll: async ({ after = 0, limit = Infinity }: ReadAllOptions) =>
      log.filter((e) => e.globalPosition > after).slice(0, limit),
    loadCheckpoint: async () => undefined,
    saveCheckpoint: async () => undefined,
    headPosition: async () => 0,
    appendCount: signal.count,
    waitForAppend: signal.wait,
    ...over,
  };
};

describe('startSubscription', () => {
  it('without checkpoints, starts at `from` every time and stores nothing', async () => {
    const calls: string[] = [];
    const subscription = startSubscription(
      fakeDeps({
        loadCheckpoint: async () => {
          calls.push('load');
          return 1;
        },
        saveCheckpoint: async () => void calls.push('save'),
        headPosition: async () => 2,
      }),
      {
        subscriberId: 'live',
        from: 'end',
        checkpoints: false,
        handler: (e) => void calls.push(`event ${e.globalPosition}`),
      },
    );
    await subscription.caughtUp;
    await subscription.stop();
    expect(calls).toEqual(['event 3']);
  });

  it('saves after each page by default; with checkpointEveryMs, the first at once, the rest at stop', async () => {
    const savesWith = async (checkpointEveryMs?: number) => {
      const saves: number[] = [];
      const subscription = startSubscription(
        fakeDeps({ saveCheckpoint: async (_, position) => void saves.push(position) }),
        {
          subscriberId: 'spaced',
          batchSize: 1,
          ...(checkpointEveryMs === undefined ? {} : { checkpointEveryMs }),
          handler: () => undefined,
        },
      );
      await subscription.caughtUp;
      const beforeStop = [...saves];
      await subscription.stop();
      return { beforeStop, saves };
    };
    expect(await savesWith()).toEqual({ beforeStop: [1, 2, 3], saves: [1, 2, 3] });
    expect(await savesWith(600_000)).toEqual({ beforeStop: [1], saves: [1, 3] });
  });

  it('with checkpointEveryMs, saves what it handled once the interval is up while no events come', async () => {
    const saves: number[] = [];
    const subscription = startSubscription(
      fakeDeps({ saveCheckpoint: async (_, position) => void saves.push(position) }),
      {
        subscriberId: 'idle',
        batchSize: 1,
        checkpointEveryMs: 200,
        pollIntervalMs: 600_000,
        handler: () => undefined,
      },
    );
    try {
      await eventually('the due save', () => (saves.at(-1) === 3 ? true : undefined), { timeoutMs: 5_000 });
    } finally {
      await subscription.stop();
    }
    expect(saves).toContain(1);
  });

  it('hands each page to onPage before its events to the handler, and never an empty page', async () => {
    const calls: string[] = [];
    const subscription = startSubscription(fakeDeps(), {
      subscriberId: 'pages',
      batchSize: 2,
      onPage: (page) => void calls.push(`page ${page.map((e) => e.globalPosition).join(',')}`),
      handler: (e) => void calls.push(`event ${e.globalPosition}`),
    });
    await subscription.caughtUp;
    await subscription.stop();
    expect(calls).toEqual(['page 1,2', 'event 1', 'event 2', 'page 3', 'event 3']);
  });

  it('retries store errors and delivers everything once the store is back', async () => {
    const log = [event(1), event(2), event(3)];
    const signal = createAppendSignal();
    const errors: unknown[] = [];
    let failures = 3;
    let checkpoint: number | undefined;
    const seen: number[] = [];
    const subscription = startSubscription(
      {
        readAll: async ({ after = 0, limit = Infinity }: ReadAllOptions) => {
          if (failures > 0) {
            failures -= 1;
            throw new Error('connection lost');
          }
          return log.filter((e) => e.globalPosition > after).slice(0, limit);
        },
        loadCheckpoint: async () => checkpoint,
        saveCheckpoint: async (_, position) => {
          checkpoint = position;
        },
        headPosition: async () => 0,
        appendCount: signal.count,
        waitForAppend: signal.wait,
      },
      { subscriberId: 'x', handler: (e) => void seen.push(e.globalPosition), onError: (e) => errors.push(e) },
    );
    await subscription.caughtUp;
    await subscription.stop();
    expect(seen).toEqual([1, 2, 3]);
    expect(checkpoint).toBe(3);
    expect(errors).toHaveLength(3);
  });

  it('reads again soon, not at the next poll, while the store holds a committed event back', async () => {
    let reads = 0;
    const seen: number[] = [];
    const subscription = startSubscription(
      fakeDeps({
        // Event 1 committed above a transaction still running: the first two reads stop short.
        readAll: async () => ((reads += 1) > 2 ? [event(1)] : []),
        committedHead: async () => 1,
      }),
      { subscriberId: 'held', pollIntervalMs: 60_000, handler: (e) => void seen.push(e.globalPosition) },
    );
    try {
      await eventually(
        'the held-back event, without a notification',
        () => (seen.length > 0 ? seen : undefined),
        {
          timeoutMs: 5_000,
        },
      );
    } finally {
      await subscription.stop();
    }
    expect(seen).toEqual([1]);
    expect(reads).toBeGreaterThanOrEqual(3);
  });

  it('backs off from 10 ms up to the polling period while held back, and starts over on progress', async () => {
    let reads = 0;
    // the committed head after each read; read 3 returns event 1, read 8 finds nothing held back
    const heads = [2, 2, 2, 2, 2, 2, 2, 1, 2];
    const waits: number[] = [];
    const subscription = startSubscription(
      fakeDeps({
        readAll: async () => ((reads += 1) === 3 ? [event(1)] : []),
        committedHead: async () => heads[reads - 1] ?? 1,
        waitForAppend: async (_, timeoutMs) => {
          waits.push(timeoutMs);
          await new Promise((resolve) => setImmediate(resolve));
        },
      }),
      { subscriberId: 'backoff', pollIntervalMs: 50, handler: () => undefined },
    );
    try {
      await eventually('nine waits', () => (waits.length >= 9 ? true : undefined), { timeoutMs: 5_000 });
    } finally {
      await subscription.stop();
    }
    expect(waits.slice(0, 9)).toEqual([10, 20, 10, 20, 40, 50, 50, 50, 10]);
  });

  it('waits for the polling period when nothing is held back', async () => {
    const waits: number[] = [];
    const subscription = startSubscription(
      fakeDeps({
        committedHead: async () => 3,
        waitForAppend: async (_, timeoutMs) => {
          waits.push(timeoutMs);
          await new Promise((resolve) => setImmediate(resolve));
        },
      }),
      { subscriberId: 'quiet', pollIntervalMs: 700, handler: () => undefined },
    );
    try {
      await eventually('two waits', () => (waits.length >= 2 ? true : undefined), { timeoutMs: 5_000 });
    } finally {
      await subscription.stop();
    }
    expect(waits.slice(0, 2)).toEqual([700, 700]);
  });
});

describe('sharedPageReads', () => {
  /** Reads that stay pending until `finish` is called; `started` lists each read's position. */
  const pendingReads = () => {
    const started: number[] = [];
    const finishers: (() => void)[] = [];
    const read = (options: ReadAllOptions) => {
      started.push(options.after ?? 0);
      return new Promise<Page>((resolve) => finishers.push(() => resolve({ events: [], committedHead: 0 })));
    };
    return { read, started, finishAll: () => finishers.splice(0).forEach((finish) => finish()) };
  };

  it('joins a read in flight for the same page only when no append was announced since it started', async () => {
    const signal = createAppendSignal();
    const { read, started, finishAll } = pendingReads();
    const shared = sharedPageReads(read, signal.count);
    const first = shared({ after: 5, limit: 10 });
    expect(shared({ after: 5, limit: 10 })).toBe(first);
    // Another page: its own read.
    void shared({ after: 6, limit: 10 });
    // An append announced while the first read runs: that read may miss it, so a new one starts.
    signal.notify();
    const second = shared({ after: 5, limit: 10 });
    expect(second).not.toBe(first);
    expect(shared({ after: 5, limit: 10 })).toBe(second);
    expect(started).toEqual([5, 6, 5]);
    finishAll();
    await Promise.all([first, second]);
    // Settled reads are not reused.
    void shared({ after: 5, limit: 10 });
    expect(started).toEqual([5, 6, 5, 5]);
    finishAll();
  });
});
