import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { eventually } from '@agentledger/testing';
import type { EventBus, Logger } from '../bus.ts';
import type { EventEnvelope } from '../envelope.ts';
import type { ReadAllOptions } from '../store.ts';
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './outbox-relay.ts';
import type { GapResolver } from './position-gaps.ts';
import type { RelayLeadership } from './relay-leadership.ts';

const RECORDED_AT = '2026-11-29T00:00:00.000Z';
const NEVER = 600_000;

const envelope = (position: number): EventEnvelope => ({
  eventId: `event-${position}`,
  streamId: `session-${position}`,
  tenantId: 't',
  version: 1,
  globalPosition: position,
  type: 'UserMessageReceived',
  schemaVersion: 1,
  data: {},
  metadata: {},
  recordedAt: RECORDED_AT,
  prevHash: '',
  hash: `hash-${position}`,
});

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Lets every pending callback of the event loop run `n` times over (no wall-clock wait). */
const turns = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

const until = <T>(what: string, probe: () => T | undefined | Promise<T | undefined>) =>
  eventually(what, probe, { timeoutMs: 3_000, intervalMs: 2 });

/**
 * A store holding events at the given positions (missing ones never commit). `log` records, in
 * order, every read (`read <after>`), checkpoint load and save, and the bus's publishes.
 */
const fakeStore = (positions: readonly number[]) => {
  const log: string[] = [];
  const checkpoints = new Map<string, number>();
  const hooks = {
    read: (_after: number): Promise<void> | void => undefined,
    save: (_position: number): Promise<void> | void => undefined,
  };
  const events = positions.map(envelope);
  const store: OutboxRelayOptions['store'] = {
    readPage: async (options?: ReadAllOptions) => {
      const after = options?.after ?? 0;
      log.push(`read ${after}`);
      await hooks.read(after);
      return { events: events.filter((e) => e.globalPosition > after).slice(0, options?.limit ?? 500) };
    },
    loadCheckpoint: async (id) => {
      log.push('load');
      return checkpoints.get(id);
    },
    saveCheckpoint: async (id, position) => {
      log.push(`save ${position}`);
      await hooks.save(position);
      checkpoints.set(id, position);
    },
  };
  return { store, log, checkpoints, hooks };
};

/** A bus that records each batch's positions (and logs `publish <first>-<last>`). */
const recordingBus = (log: string[]) => {
  const published: number[][] = [];
  const hooks = { publish: (): Promise<void> | void => undefined };
  const bus: Pick<EventBus, 'publish'> = {
    publish: async (batch) => {
      await hooks.publish();
      const positions = batch.map((e) => e.globalPosition);
      log.push(`publish ${positions[0]}-${positions.at(-1)}`);
      published.push(positions);
    },
  };
  return { bus, published, hooks };
};

type Line = [level: keyof Logger, message: string, fields: unknown];
const recordingLogger = (onLine: (line: Line) => void = () => undefined) => {
  const lines: Line[] = [];
  const record =
    (level: keyof Logger) =>
    (message: string, fields?: unknown): void => {
      const line: Line = [level, message, fields];
      lines.push(line);
      onLine(line);
    };
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  return { logger, lines };
};

/** A leadership the test hands over by flipping `held`; `acquire` takes one turn of the event loop. */
const switchable = (held: boolean) => {
  const state = { held, acquires: 0, releases: 0 };
  const leadership: RelayLeadership = {
    acquire: async () => {
      state.acquires++;
      await new Promise((resolve) => setImmediate(resolve));
      return state.held;
    },
    isHeld: () => state.held,
    release: async () => {
      state.releases++;
    },
  };
  return { state, leadership };
};

describe('outbox relay, step by step', () => {
  const relays: OutboxRelay[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  afterAll(() => void process.off('unhandledRejection', onUnhandled));
  // Generous: stopping waits for the step in flight, which a loaded CI machine can hold for seconds.
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    unhandled.splice(0);
    vi.restoreAllMocks();
    vi.useRealTimers();
  }, 60_000);
  const relayOf = (options: OutboxRelayOptions): OutboxRelay => {
    const relay = createOutboxRelay(options);
    relays.push(relay);
    return relay;
  };

  it('reports a relay that is not running before start and after stop, and releases leadership', async () => {
    const { store, log } = fakeStore([1, 2, 3]);
    const { bus } = recordingBus(log);
    const { state, leadership } = switchable(true);
    const relay = relayOf({ store, bus, leadership, idlePollMs: NEVER });
    const idle = {
      running: false,
      leader: false,
      checkpoint: 0,
      lagEvents: 0,
      lagMs: 0,
      publishedEvents: 0,
      skippedPositions: 0,
      failures: 0,
    };
    expect(relay.status()).toStrictEqual(idle);
    relay.start();
    expect(relay.status().running).toBe(true);
    await until('caught up', () => (log.includes('save 3') ? true : undefined));
    expect(relay.status()).toMatchObject({ running: true, leader: true, checkpoint: 3 });
    await relay.stop();
    expect(relay.status()).toStrictEqual({ ...idle, checkpoint: 3, publishedEvents: 3 });
    expect(state.releases).toBe(1);
  });

  it('a stop that comes while leadership is being acquired ends the loop without waiting out a pause', async () => {
    const { store, log } = fakeStore([]);
    const { bus } = recordingBus(log);
    const gate: { open?: () => void; asked: number } = { asked: 0 };
    const leadership: RelayLeadership = {
      acquire: () => {
        gate.asked++;
        return new Promise((resolve) => (gate.open = () => resolve(true)));
      },
      isHeld: () => true,
      release: async () => undefined,
    };
    const relay = relayOf({ store, bus, leadership, idlePollMs: NEVER, standbyPollMs: NEVER });
    relay.start();
    await until('acquiring', () => (gate.open ? true : undefined));
    const stopped = relay.stop();
    gate.open!();
    const outcome = await Promise.race([stopped.then(() => 'stopped'), turns(50).then(() => 'hung')]);
    expect(outcome).toBe('stopped');
    expect(gate.asked).toBe(1);
    expect(relay.status().running).toBe(false);
  });

  it('starting twice runs one loop: each event is published once', async () => {
    const { store, log } = fakeStore([1, 2, 3]);
    const { bus, published } = recordingBus(log);
    const relay = relayOf({ store, bus, idlePollMs: NEVER });
    relay.start();
    relay.start();
    await until('caught up', () => (log.includes('save 3') ? true : undefined));
    await relay.stop();
    expect(published).toEqual([[1, 2, 3]]);
  });

  it('reads the next full page while publishing, each page once, and loads the checkpoint once', async () => {
    const { store, log } = fakeStore(range(1, 12));
    const { bus } = recordingBus(log);
    const relay = relayOf({ store, bus, batchSize: 5, idlePollMs: NEVER });
    relay.start();
    await until('caught up', () => (log.includes('save 12') ? true : undefined));
    await turns();
    expect(log).toEqual([
      'load',
      'read 0',
      'read 5',
      'publish 1-5',
      'save 5',
      'read 10',
      'publish 6-10',
      'save 10',
      'publish 11-12',
      'save 12',
    ]);
    expect(relay.status()).toMatchObject({ checkpoint: 12, publishedEvents: 12, failures: 0 });
  });

  it('after a short page reads again only when woken: what was committed by then is out', async () => {
    const { store, log } = fakeStore([1, 2]);
    const { bus } = recordingBus(log);
    const relay = relayOf({ store, bus, idlePollMs: NEVER });
    relay.start();
    await until('caught up', () => (log.includes('save 2') ? true : undefined));
    await turns(10);
    expect(log).toEqual(['load', 'read 0', 'publish 1-2', 'save 2']);
    relay.wake();
    await until('read again', () => (log.at(-1) === 'read 2' ? true : undefined));
  });

  it('a wake during the step is not lost: the pause after a short page returns at once', async () => {
    const { store, log } = fakeStore([1, 2]);
    const { bus, hooks } = recordingBus(log);
    const relay = relayOf({ store, bus, idlePollMs: NEVER });
    hooks.publish = () => relay.wake();
    relay.start();
    await until('read again', () => (log.at(-1) === 'read 2' ? true : undefined));
    expect(log).toEqual(['load', 'read 0', 'publish 1-2', 'save 2', 'read 2']);
  });

  it('reads again without a wake while a page stops below the committed head, from the gap poll doubled up to the idle poll', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { store, log } = fakeStore([1, 2, 3]);
    // 3 committed above a transaction that still runs, whose end will not wake the relay.
    let visible = 2;
    const holding: OutboxRelayOptions['store'] = {
      ...store,
      readPage: async (options) => ({
        events: (await store.readPage(options)).events.filter((e) => e.globalPosition <= visible),
        committedHead: 3,
      }),
    };
    const { bus } = recordingBus(log);
    const relay = relayOf({ store: holding, bus, gapPollMs: 5, idlePollMs: 40 });
    relay.start();
    await turns(10);
    expect(log).toEqual(['load', 'read 0', 'publish 1-2', 'save 2']);
    const reads = () => log.filter((line) => line.startsWith('read')).length;
    for (const wait of [5, 10, 20, 40, 40]) {
      const before = reads();
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(reads()).toBe(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(reads()).toBe(before + 1);
    }
    visible = 3;
    await vi.advanceTimersByTimeAsync(40);
    expect(log.slice(-3)).toEqual(['read 2', 'publish 3-3', 'save 3']);
    // At the head: the idle poll again, and a later hold-back starts from the gap poll.
    const caughtUp = reads();
    await vi.advanceTimersByTimeAsync(39);
    expect(reads()).toBe(caughtUp);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads()).toBe(caughtUp + 1);
  });

  it('measures the lag: the exact count under a batch, else the head position checked at most every second', async () => {
    const { store, log } = fakeStore(range(1, 22));
    const { bus } = recordingBus(log);
    const clock = { now: Date.parse(RECORDED_AT) + 1_500, head: 22, headChecks: 0 };
    const seen: { first: number; lagEvents: number; lagMs: number }[] = [];
    const relay: OutboxRelay = relayOf({
      store,
      bus,
      batchSize: 5,
      idlePollMs: NEVER,
      now: () => clock.now,
      headPosition: async () => {
        clock.headChecks++;
        return clock.head;
      },
      onPublished: (batch) => {
        const { lagEvents, lagMs } = relay.status();
        seen.push({ first: batch[0]!.globalPosition, lagEvents, lagMs });
        if (batch[0]!.globalPosition === 6) {
          clock.now += 1_000;
          clock.head = 40;
        }
      },
    });
    relay.start();
    await until('caught up', () => (log.includes('save 22') ? true : undefined));
    expect(seen).toEqual([
      { first: 1, lagEvents: 22, lagMs: 1_500 },
      { first: 6, lagEvents: 17, lagMs: 1_500 },
      { first: 11, lagEvents: 30, lagMs: 2_500 },
      { first: 16, lagEvents: 25, lagMs: 2_500 },
      { first: 21, lagEvents: 2, lagMs: 2_500 },
    ]);
    expect(clock.headChecks).toBe(2);
    expect(relay.status()).toMatchObject({ checkpoint: 22, lagEvents: 0, lagMs: 0 });
  });

  it('holds back the events after a gap until the resolver settles it, then skips it once and logs it', async () => {
    const { store, log } = fakeStore([1, 2, 4, 5, 6]);
    const { bus, published } = recordingBus(log);
    const { logger, lines } = recordingLogger();
    const resolver = { settled: false, marks: 0, asked: [] as unknown[] };
    const gaps: GapResolver = {
      mark: async () => `mark-${++resolver.marks}`,
      settled: async (mark) => {
        resolver.asked.push(mark);
        return resolver.settled;
      },
    };
    const relay = relayOf({ store, bus, gaps, logger, gapPollMs: 1, idlePollMs: NEVER });
    relay.start();
    await until('the gap asked about three times', () => (resolver.asked.length >= 3 ? true : undefined));
    expect(published).toEqual([[1, 2]]);
    expect(relay.status()).toMatchObject({ checkpoint: 2, skippedPositions: 0 });
    resolver.settled = true;
    await until('published past the gap', () => (relay.status().checkpoint === 6 ? true : undefined));
    expect(published).toEqual([
      [1, 2],
      [4, 5, 6],
    ]);
    expect(resolver.marks).toBe(1);
    expect(new Set(resolver.asked)).toEqual(new Set(['mark-1']));
    expect(relay.status()).toMatchObject({ skippedPositions: 1, publishedEvents: 5, failures: 0 });
    await until('caught up', () => (log.at(-1) === 'save 6' ? true : undefined));
    expect(lines).toEqual([
      ['info', 'relay active', { relayId: 'outbox-relay', checkpoint: 0 }],
      ['info', 'skipped positions that never committed', { relayId: 'outbox-relay', skipped: 1 }],
    ]);
    expect(relay.status().failures).toBe(0);
  });

  it('settles gaps on Postgres by transaction ids when the store exposes a pool', async () => {
    const { store, log } = fakeStore([1, 3]);
    const { bus, published } = recordingBus(log);
    const queries: string[] = [];
    const pool = {
      query: async (text: string) => {
        queries.push(text);
        return { rows: [text.includes('pg_current_xact_id') ? { mark: '42' } : { settled: true }] };
      },
    };
    const relay = relayOf({ store: { ...store, pool } as OutboxRelayOptions['store'], bus, gapPollMs: 1 });
    relay.start();
    await until('published past the gap', () => (published.length === 2 ? true : undefined));
    expect(published).toEqual([[1], [3]]);
    expect(queries[0]).toContain('pg_current_xact_id()');
    expect(queries[1]).toContain('agentledger_safe_xid8()');
    expect(relay.status().skippedPositions).toBe(1);
  });

  it('skips a gap at once on a PGlite store (one session: a hole is final)', async () => {
    const { store, log } = fakeStore([1, 3]);
    const { bus, published } = recordingBus(log);
    const pglite = { ...store, pglite: {} } as OutboxRelayOptions['store'];
    const relay = relayOf({ store: pglite, bus, gapPollMs: 1 });
    relay.start();
    await until('published past the gap', () => (published.length === 2 ? true : undefined));
    expect(published).toEqual([[1], [3]]);
    expect(relay.status().skippedPositions).toBe(1);
  });

  it('waits for a gap on any other store (a time-out of seconds, not the next read)', async () => {
    const { store, log } = fakeStore([1, 3]);
    const { bus, published } = recordingBus(log);
    const relay = relayOf({ store, bus, gapPollMs: 1 });
    relay.start();
    await until('several reads', () =>
      log.filter((line) => line === 'read 1').length >= 4 ? true : undefined,
    );
    expect(published).toEqual([[1]]);
    expect(relay.status()).toMatchObject({ checkpoint: 1, skippedPositions: 0 });
  });

  it('while a gap is open, pauses for the gap poll and keeps the lag of the events held back behind it', async () => {
    const { store, log } = fakeStore([1, 2, 4, 5, 6]);
    const { bus, published } = recordingBus(log);
    const asked: unknown[] = [];
    // Answers, and always "not yet": a relay that did not pause would read again at once.
    const gaps: GapResolver = {
      mark: async () => 'mark',
      settled: async (mark) => {
        asked.push(mark);
        return false;
      },
    };
    const now = Date.parse(RECORDED_AT) + 1_500;
    const relay = relayOf({ store, bus, gaps, gapPollMs: NEVER, idlePollMs: NEVER, now: () => now });
    relay.start();
    await until('published up to the gap', () => (log.includes('save 2') ? true : undefined));
    await turns(10);
    expect(log).toEqual(['load', 'read 0', 'publish 1-2', 'save 2']);
    expect(published).toEqual([[1, 2]]);
    expect(asked).toEqual([]);
    expect(relay.status()).toMatchObject({ checkpoint: 2, lagEvents: 3, lagMs: 1_500 });
  });

  it('backs off exponentially up to the maximum, counting failures and reloading the checkpoint', async () => {
    const { store, log } = fakeStore([1, 2]);
    const { bus, published, hooks } = recordingBus(log);
    let failuresLeft = 4;
    hooks.publish = () => {
      if (failuresLeft-- > 0) throw new Error('broker unavailable');
    };
    const seen: { failures: number; leader: boolean }[] = [];
    const watched: { relay?: OutboxRelay } = {};
    const { logger, lines } = recordingLogger(([level]) => {
      const status = watched.relay?.status();
      if (level === 'warn' && status) seen.push({ failures: status.failures, leader: status.leader });
    });
    const relay = relayOf({ store, bus, logger, retryDelayMs: 1, maxRetryDelayMs: 6, idlePollMs: NEVER });
    watched.relay = relay;
    relay.start();
    await until('published', () => (published.length === 1 ? true : undefined));
    const warnings = lines.filter(([level]) => level === 'warn');
    expect(warnings).toEqual(
      [1, 2, 4, 6].map((backoff) => [
        'warn',
        'relay step failed; retrying',
        { relayId: 'outbox-relay', error: 'Error: broker unavailable', backoff },
      ]),
    );
    expect(seen).toEqual([1, 2, 3, 4].map((failures) => ({ failures, leader: false })));
    expect(log.filter((line) => line === 'load')).toHaveLength(5);
    await until('caught up', () => (log.at(-1) === 'save 2' ? true : undefined));
    expect(relay.status()).toMatchObject({ failures: 0, lastError: 'Error: broker unavailable' });
  });

  it('keeps the lag measured for a full page while the next page is still being read', async () => {
    const { store, log, hooks } = fakeStore(range(1, 7));
    const { bus } = recordingBus(log);
    const held: { release?: () => void } = {};
    hooks.read = (after) => {
      if (after === 5) return new Promise<void>((resolve) => (held.release = resolve));
    };
    const now = Date.parse(RECORDED_AT) + 1_500;
    const relay = relayOf({ store, bus, batchSize: 5, idlePollMs: NEVER, now: () => now });
    relay.start();
    await until('the first page published', () => (log.includes('save 5') ? true : undefined));
    await turns(10);
    // Seen while the read is held; asserted after it is let go (a failed assertion would leave the
    // relay stuck in that read, and the stop after the test with it).
    const whileReading = { log: [...log], status: relay.status() };
    held.release!();
    await until('caught up', () => (log.includes('save 7') ? true : undefined));
    expect(whileReading.log).toEqual(['load', 'read 0', 'read 5', 'publish 1-5', 'save 5']);
    expect(whileReading.status).toMatchObject({ checkpoint: 5, lagMs: 1_500 });
    expect(relay.status()).toMatchObject({ checkpoint: 7, lagEvents: 0, lagMs: 0 });
  });

  it('a failed checkpoint save fails the next step: the checkpoint is reloaded and the batch republished', async () => {
    const { store, log, checkpoints, hooks } = fakeStore([1, 2, 3]);
    const { bus, published } = recordingBus(log);
    const { leadership } = switchable(true);
    let failSave = true;
    hooks.save = () => {
      if (failSave) {
        failSave = false;
        throw new Error('disk full');
      }
    };
    const { logger, lines } = recordingLogger();
    const relay = relayOf({ store, bus, leadership, logger, retryDelayMs: 1, idlePollMs: NEVER });
    relay.start();
    await until('saved', () => (checkpoints.get('outbox-relay') === 3 ? true : undefined));
    expect(published).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(lines.filter(([level]) => level === 'warn')).toEqual([
      [
        'warn',
        'relay step failed; retrying',
        { relayId: 'outbox-relay', error: 'Error: disk full', backoff: 1 },
      ],
    ]);
    expect(unhandled).toEqual([]);
  });

  it('a read-ahead that fails is retried from the checkpoint, never left unhandled', async () => {
    const { store, log, hooks } = fakeStore(range(1, 7));
    const { bus, published, hooks: busHooks } = recordingBus(log);
    busHooks.publish = () => turns(2);
    let failRead = true;
    hooks.read = (after) => {
      if (after === 5 && failRead) {
        failRead = false;
        throw new Error('connection reset');
      }
    };
    const relay = relayOf({ store, bus, batchSize: 5, retryDelayMs: 1, idlePollMs: NEVER });
    relay.start();
    await until('published', () => (relay.status().checkpoint === 7 ? true : undefined));
    expect(published).toEqual([
      [1, 2, 3, 4, 5],
      [6, 7],
    ]);
    expect(relay.status().lastError).toBe('Error: connection reset');
    expect(unhandled).toEqual([]);
  });

  it('does not save the checkpoint when leadership was lost during the publish, and says why', async () => {
    const { store, log, checkpoints } = fakeStore([1, 2]);
    const { bus, published } = recordingBus(log);
    const { state, leadership } = switchable(true);
    const relay = relayOf({
      store,
      bus,
      leadership,
      retryDelayMs: 1,
      standbyPollMs: 5,
      idlePollMs: NEVER,
      onPublished: () => {
        if (published.length === 1) state.held = false;
      },
    });
    relay.start();
    await until('a standby', () =>
      relay.status().failures === 1 && !relay.status().leader ? true : undefined,
    );
    expect(log).not.toContain('save 2');
    expect(relay.status().lastError).toBe('Error: leadership lost before the checkpoint');
    state.held = true;
    await until('saved', () => (checkpoints.get('outbox-relay') === 2 ? true : undefined));
    expect(published).toEqual([
      [1, 2],
      [1, 2],
    ]);
  });

  it('logs losing and regaining leadership, and a standby that never led logs nothing', async () => {
    const { store, log, checkpoints } = fakeStore([8, 9]);
    checkpoints.set('r', 7);
    const { bus, published } = recordingBus(log);
    const { state, leadership } = switchable(false);
    const { logger, lines } = recordingLogger();
    const relay = relayOf({
      store,
      bus,
      leadership,
      logger,
      relayId: 'r',
      standbyPollMs: 5,
      idlePollMs: NEVER,
    });
    relay.start();
    await until('asked for leadership twice', () => (state.acquires >= 2 ? true : undefined));
    expect(lines).toEqual([]);
    state.held = true;
    await until('published', () => (log.at(-1) === 'save 9' ? true : undefined));
    expect(published).toEqual([[8, 9]]);
    state.held = false;
    relay.wake();
    await until('a standby', () => (relay.status().leader ? undefined : true));
    state.held = true;
    await until('leading again', () => (relay.status().leader ? true : undefined));
    expect(lines).toEqual([
      ['info', 'relay active', { relayId: 'r', checkpoint: 7 }],
      ['warn', 'relay is no longer the leader', { relayId: 'r' }],
      ['info', 'relay active', { relayId: 'r', checkpoint: 9 }],
    ]);
  });

  it('a wake right after a read starts the next read at once, not on a timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { store, log } = fakeStore([1, 2]);
    const { bus } = recordingBus(log);
    const relay = relayOf({ store, bus, idlePollMs: NEVER });
    relay.start();
    await turns(10);
    expect(log).toEqual(['load', 'read 0', 'publish 1-2', 'save 2']);
    relay.wake();
    await turns(10);
    expect(log).toEqual(['load', 'read 0', 'publish 1-2', 'save 2', 'read 2']);
    expect(vi.getTimerCount()).toBe(1); // the idle poll after that read, nothing else
  });

  it('folds the wakes that come during a read into one more read after it', async () => {
    const { store, log, hooks } = fakeStore([1, 2]);
    const { bus } = recordingBus(log);
    const relay = relayOf({ store, bus, idlePollMs: NEVER });
    relay.start();
    await until('caught up', () => (log.includes('save 2') ? true : undefined));
    let release: (() => void) | undefined;
    hooks.read = () => new Promise<void>((resolve) => (release = resolve));
    relay.wake();
    await until('a read in flight', () => release);
    const reads = () => log.filter((line) => line.startsWith('read')).length;
    const during = reads();
    hooks.read = () => undefined;
    relay.wake();
    relay.wake();
    relay.wake();
    release!();
    await until('the read after it', () => (reads() > during ? true : undefined));
    await turns(10);
    expect(reads()).toBe(during + 1);
    await relay.stop();
  });

  it('a standby asks for leadership once a standby poll: wakes (a commit each) do not make it ask', async () => {
    const { store } = fakeStore([]);
    const { leadership, state } = switchable(false);
    const relay = relayOf({ store, bus: recordingBus([]).bus, leadership, standbyPollMs: NEVER });
    relay.wake();
    relay.start();
    await until('asked once', () => (state.acquires === 1 ? true : undefined));
    for (let i = 0; i < 20; i += 1) relay.wake();
    await turns(10);
    expect(state.acquires).toBe(1);
    expect(relay.status().leader).toBe(false);
    await relay.stop();
  });

  it('a wake clears the leader’s pending poll timer, so nothing is left to keep the process alive', async () => {
    const setTimer = vi.spyOn(globalThis, 'setTimeout');
    const clearTimer = vi.spyOn(globalThis, 'clearTimeout');
    const { store, log } = fakeStore([1]);
    const relay = relayOf({ store, bus: recordingBus(log).bus, idlePollMs: NEVER });
    relay.start();
    await until('an idle poll', () =>
      setTimer.mock.calls.some(([, ms]) => ms === NEVER) ? true : undefined,
    );
    const index = setTimer.mock.calls.findIndex(([, ms]) => ms === NEVER);
    const timer = setTimer.mock.results[index]!.value as unknown;
    const reads = log.filter((line) => line.startsWith('read')).length;
    relay.wake();
    await until('read again', () =>
      log.filter((line) => line.startsWith('read')).length > reads ? true : undefined,
    );
    expect(clearTimer).toHaveBeenCalledWith(timer);
    await relay.stop();
  });

  it('stop waits for the checkpoint save in flight', async () => {
    const { store, log, checkpoints, hooks } = fakeStore([1, 2, 3]);
    const { bus } = recordingBus(log);
    hooks.save = () => turns(3);
    const stopping: { done?: Promise<void> } = {};
    const relay: OutboxRelay = relayOf({
      store,
      bus,
      onPublished: () => {
        stopping.done = relay.stop();
      },
    });
    relay.start();
    await until('stopping', () => (stopping.done ? true : undefined));
    await stopping.done;
    expect(checkpoints.get('outbox-relay')).toBe(3);
    expect(relay.status()).toMatchObject({ running: false, checkpoint: 3 });
  });

  it('logs a checkpoint save that fails at stop', async () => {
    const { store, log, hooks } = fakeStore([1, 2, 3]);
    const { bus } = recordingBus(log);
    hooks.save = async () => {
      await turns(1);
      throw new Error('disk full');
    };
    const { logger, lines } = recordingLogger();
    const stopping: { done?: Promise<void> } = {};
    const relay: OutboxRelay = relayOf({
      store,
      bus,
      logger,
      onPublished: () => {
        stopping.done = relay.stop();
      },
    });
    relay.start();
    await until('stopping', () => (stopping.done ? true : undefined));
    await stopping.done;
    expect(lines.filter(([level]) => level === 'warn')).toEqual([
      ['warn', 'relay checkpoint not saved at stop', { relayId: 'outbox-relay', error: 'Error: disk full' }],
    ]);
  });

  it('stop during a read that finds nothing does not wait for the idle poll', async () => {
    const { store, log, hooks } = fakeStore([1]);
    const { bus } = recordingBus(log);
    const stopping: { done?: Promise<void> } = {};
    const relay: OutboxRelay = relayOf({ store, bus, idlePollMs: NEVER });
    hooks.read = (after) => {
      if (after === 1) stopping.done = relay.stop();
    };
    relay.start();
    await until('caught up', () => (log.includes('save 1') ? true : undefined));
    relay.wake();
    await until('stopping', () => (stopping.done ? true : undefined));
    await stopping.done;
    expect(relay.status()).toMatchObject({ running: false, checkpoint: 1 });
  });
});
