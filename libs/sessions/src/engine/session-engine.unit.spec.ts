import { describe, expect, it, vi } from 'vitest';
import type { SessionCommand } from '@agentledger/agents';
import {
  ConcurrentChange,
  createInMemoryEventStore,
  sessionStreamId,
  type EventEnvelope,
  type EventStore,
} from '@agentledger/events';
import { LeaseLost } from '../errors.ts';
import { createInMemorySessionIndex } from '../memory/memory-session-index.ts';
import type { Lease, SessionProjection } from '../session-index.ts';
import { estimatedBytes } from './session-cache.ts';
import { createSessionEngine } from './session-engine.ts';
import { recordingCalls, meta, postMessage, singleTeam, startSession } from '../testing/fixtures.ts';

const STREAM = sessionStreamId('tenant-a', 's1');

const setup = () => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const store = createInMemoryEventStore();
  const index = createInMemorySessionIndex(() => now);
  const repository = createSessionEngine({ store, index, partitions: 12 });
  return { store, index, repository, advance: (ms: number) => (now += ms) };
};

/**
 * Session s1 started through engine `a`, which reads through `counted`; `b` is a second engine on
 * the same store and index (another process).
 */
const twoEngines = async () => {
  const { store, index } = setup();
  const counted = recordingCalls(store, 'readStream');
  const a = createSessionEngine({ store: counted.store, index, partitions: 12 });
  const b = createSessionEngine({ store, index, partitions: 12 });
  await a.handle(startSession('s1'), { tenantId: 'tenant-a', sessionId: 's1' });
  return { store, index, counted, a, b };
};

describe('session repository', () => {
  it('appends decided events and keeps the read model in step, in one append', async () => {
    const { repository, index, store } = setup();
    await repository.handle(startSession('s1'), { tenantId: 'tenant-a', sessionId: 's1' });
    const { state, events } = await repository.handle(postMessage('m1', 'hello'), {
      tenantId: 'tenant-a',
      sessionId: 's1',
    });
    expect(events.map((e) => e.type)).toContain('UserMessageReceived');
    const row = await index.get('tenant-a', 's1');
    expect(row).toMatchObject({
      sessionId: 's1',
      teamId: 'team-1',
      version: state.version,
      status: state.status,
    });
    expect(row?.pendingWork).toBe(true);
    expect((await store.readStream(STREAM, { tenantId: 'tenant-a' })).length).toBe(state.version);
  });

  it('returns the first result for a repeated idempotency key and stores the message once', async () => {
    const { repository, store } = setup();
    await repository.handle(startSession('s1'), { tenantId: 'tenant-a', sessionId: 's1' });
    const first = await repository.handle(postMessage('m1', 'hello'), {
      tenantId: 'tenant-a',
      sessionId: 's1',
      idempotencyKey: 'k1',
    });
    const second = await repository.handle(postMessage('m2', 'hello'), {
      tenantId: 'tenant-a',
      sessionId: 's1',
      idempotencyKey: 'k1',
    });
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.events.map((e) => e.eventId)).toEqual(first.events.map((e) => e.eventId));
    const received = (await store.readStream(STREAM, { tenantId: 'tenant-a' })).filter(
      (e) => e.type === 'UserMessageReceived',
    );
    expect(received).toHaveLength(1);
  });

  it('hides a session from other tenants', async () => {
    const { repository, index } = setup();
    await repository.handle(startSession('s1'), { tenantId: 'tenant-a', sessionId: 's1' });
    expect(await repository.load('tenant-b', 's1')).toBeUndefined();
    expect(await index.get('tenant-b', 's1')).toBeUndefined();
    expect((await index.list({ tenantId: 'tenant-b', limit: 10 })).items).toEqual([]);
  });

  it('gives two tenants that choose one session id two sessions, streams and rows', async () => {
    const { repository, index, store } = setup();
    await repository.handle(startSession('s1', 'tenant-a'), { tenantId: 'tenant-a', sessionId: 's1' });
    await repository.handle(postMessage('m1', 'from a'), { tenantId: 'tenant-a', sessionId: 's1' });
    const b = await repository.handle(startSession('s1', 'tenant-b'), {
      tenantId: 'tenant-b',
      sessionId: 's1',
    });
    expect(b.events.map((e) => e.type)).toEqual(['SessionStarted']);
    expect(b.events[0]?.streamId).toBe('session-tenant-b/s1');
    expect((await repository.load('tenant-b', 's1'))?.messages).toEqual([]);
    expect((await repository.load('tenant-a', 's1'))?.messages.map((m) => m.content)).toEqual(['from a']);
    expect(await index.get('tenant-b', 's1')).toMatchObject({ tenantId: 'tenant-b', version: 1 });
    expect((await index.get('tenant-a', 's1'))?.version).toBeGreaterThan(1);
    expect(await store.readStream('session-tenant-b/s1', { tenantId: 'tenant-b' })).toHaveLength(1);
    const leaseA = await index.acquire('tenant-a', 's1', 'replica-1', 1_000);
    const leaseB = await index.acquire('tenant-b', 's1', 'replica-2', 1_000);
    expect([leaseA?.epoch, leaseB?.epoch]).toEqual([1, 1]);
  });

  it('keeps using the stream the read model records for a session older than migration 0010', async () => {
    const { repository, index, store } = setup();
    const scratch = createSessionEngine({
      store: createInMemoryEventStore(),
      index: createInMemorySessionIndex(),
      partitions: 12,
    });
    const { state, events } = await scratch.handle(startSession('old'), {
      tenantId: 'tenant-a',
      sessionId: 'old',
    });
    const legacy = events.map(({ type, data }) => ({ type, data }));
    await store.append('session-old', legacy, { tenantId: 'tenant-a', expectedVersion: 0 });
    await index.project(undefined, repository.projectionOf(state, 'session-old'));
    const { events: posted } = await repository.handle(postMessage('m1', 'still works'), {
      tenantId: 'tenant-a',
      sessionId: 'old',
    });
    expect(new Set(posted.map((e) => e.streamId))).toEqual(new Set(['session-old']));
    expect(await repository.streamIdOf('tenant-a', 'old')).toBe('session-old');
    expect((await repository.load('tenant-a', 'old'))?.messages.map((m) => m.content)).toEqual([
      'still works',
    ]);
    expect(await repository.load('tenant-b', 'old')).toBeUndefined();
  });

  it('rejects an append fenced by a lease that another owner took, writing nothing', async () => {
    const { repository, index, store, advance } = setup();
    await repository.handle(startSession('s1'), { tenantId: 'tenant-a', sessionId: 's1' });
    const stale = await index.acquire('tenant-a', 's1', 'replica-1', 1_000);
    advance(2_000);
    const current = await index.acquire('tenant-a', 's1', 'replica-2', 1_000);
    expect(current?.epoch).toBe(stale!.epoch + 1);
    const before = (await store.readStream(STREAM, { tenantId: 'tenant-a' })).length;
    await expect(
      repository.handle(postMessage('m1', 'late'), { tenantId: 'tenant-a', sessionId: 's1', lease: stale! }),
    ).rejects.toBeInstanceOf(LeaseLost);
    expect((await store.readStream(STREAM, { tenantId: 'tenant-a' })).length).toBe(before);
    await repository.handle(postMessage('m1', 'fenced ok'), {
      tenantId: 'tenant-a',
      sessionId: 's1',
      lease: current!,
    });
    expect((await store.readStream(STREAM, { tenantId: 'tenant-a' })).length).toBeGreaterThan(before);
  });

  it('declares the read-model row (lease included) to a store that runs it, and returns the events as stored', async () => {
    const memory = createInMemoryEventStore();
    const index = createInMemorySessionIndex();
    const declare = vi.fn((row: SessionProjection, lease?: Lease) => ({
      name: 'session',
      argument: { row, lease },
    }));
    // Like the SQL store: the declared projection is built from the events as they will be stored
    // (no positions or hashes yet), and the append returns them as stored.
    const seen: EventEnvelope[][] = [];
    const store: EventStore<undefined> = {
      ...memory,
      append: async (streamId, events, { declared, inline, ...options }) => {
        expect(inline).toBeUndefined();
        const result = await memory.append(streamId, events, {
          ...options,
          inline: ({ events: stored }) => {
            const pending = stored.map((e) => ({ ...e, globalPosition: 0, hash: '', prevHash: '' }));
            seen.push(pending);
            declared?.(pending);
          },
        });
        return {
          ...result,
          events: await memory.readStream(streamId, { ...options, fromVersion: result.versions[0] }),
        };
      },
    };
    const engine = createSessionEngine({ store, index: { ...index, declare }, partitions: 12 });
    await engine.handle(startSession('s1'), { tenantId: 'tenant-a', sessionId: 's1' });
    const lease = (await index.acquire('tenant-a', 's1', 'replica-1', 60_000))!;
    const { state, events } = await engine.handle(postMessage('m1', 'hello'), {
      tenantId: 'tenant-a',
      sessionId: 's1',
      lease,
    });
    expect(declare).toHaveBeenCalledTimes(2);
    expect(declare).toHaveBeenLastCalledWith(
      expect.objectContaining({ sessionId: 's1', version: state.version, pendingWork: true }),
      lease,
    );
    expect(seen.at(-1)?.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    expect(events).toEqual(await memory.readStream(STREAM, { tenantId: 'tenant-a', fromVersion: 2 }));
    expect(events.every((e) => e.globalPosition > 0 && e.hash !== '')).toBe(true);
  });

  it('re-folds and re-decides after a concurrent append changed the stream', async () => {
    const { store, index } = setup();
    const a = createSessionEngine({ store, index, partitions: 12 });
    const b = createSessionEngine({ store, index, partitions: 12 });
    await a.handle(startSession('s1'), { tenantId: 'tenant-a', sessionId: 's1' });
    await a.load('tenant-a', 's1'); // a caches version 1
    await b.handle(postMessage('m1', 'first'), { tenantId: 'tenant-a', sessionId: 's1' });
    const { state } = await a.handle(postMessage('m2', 'second'), { tenantId: 'tenant-a', sessionId: 's1' });
    expect(state.messages.map((m) => m.content)).toEqual(['first', 'second']);
  });

  it('lets a lease holder decide on its cached session without reading, and catch up after a conflict', async () => {
    const { store, index, counted, a, b } = await twoEngines();
    const lease = (await index.acquire('tenant-a', 's1', 'replica-1', 60_000))!;
    const ref = { tenantId: 'tenant-a', sessionId: 's1', lease };
    counted.calls.length = 0;
    await a.handle(postMessage('m1', 'first'), ref);
    expect(counted.calls).toHaveLength(0);
    await b.handle(postMessage('m2', 'second'), { tenantId: 'tenant-a', sessionId: 's1' });
    const { state } = await a.handle(postMessage('m3', 'third'), ref);
    expect(state.messages.map((m) => m.content)).toEqual(['first', 'second', 'third']);
    expect(counted.calls).toHaveLength(1);
    expect((await store.readStream(STREAM, { tenantId: 'tenant-a' })).length).toBe(state.version);
  });

  it('lets a caller that just loaded decide on that fold without reading again; a stale one reads once', async () => {
    const { counted, a, b } = await twoEngines();
    const ref = { tenantId: 'tenant-a', sessionId: 's1', fresh: true };
    await a.load('tenant-a', 's1');
    counted.calls.length = 0;
    await a.handle(postMessage('m1', 'first'), ref);
    expect(counted.calls).toHaveLength(0);
    await a.handle(postMessage('m2', 'unfresh'), { tenantId: 'tenant-a', sessionId: 's1' });
    expect(counted.calls).toHaveLength(1);
    await b.handle(postMessage('m3', 'elsewhere'), { tenantId: 'tenant-a', sessionId: 's1' });
    counted.calls.length = 0;
    const { state } = await a.handle(postMessage('m4', 'stale'), ref);
    expect(state.messages.map((m) => m.content)).toEqual(['first', 'unfresh', 'elsewhere', 'stale']);
    expect(counted.calls).toHaveLength(1);
  });

  it('gives a command its cached session without reading; one behind costs a refused append and one read, never a lost message', async () => {
    const { store, counted, a, b } = await twoEngines();
    const ref = { tenantId: 'tenant-a', sessionId: 's1', fresh: true };
    const command = async (id: string, content: string) => {
      const before = await a.load('tenant-a', 's1', { forCommand: true });
      return { before, ...(await a.handle(postMessage(id, content), ref)) };
    };
    counted.calls.length = 0;
    await command('m1', 'first');
    expect(counted.calls).toHaveLength(0);
    // Another writer appended, and this engine was told (the gateway's live events): still no read.
    const { events } = await b.handle(postMessage('m2', 'observed'), {
      tenantId: 'tenant-a',
      sessionId: 's1',
    });
    for (const event of events) a.observe(event);
    await command('m3', 'after observed');
    expect(counted.calls).toHaveLength(0);
    // Another writer appended, and nobody told this engine: the append on the stale cache is
    // refused by its expected version, and the retry reads once.
    await b.handle(postMessage('m4', 'unobserved'), { tenantId: 'tenant-a', sessionId: 's1' });
    const late = await command('m5', 'after unobserved');
    expect(late.before?.messages).toHaveLength(3);
    expect(counted.calls).toHaveLength(1);
    expect(late.state.messages.map((m) => m.content)).toEqual([
      'first',
      'observed',
      'after observed',
      'unobserved',
      'after unobserved',
    ]);
    expect(late.state).toEqual(await b.load('tenant-a', 's1'));
    expect((await store.readStream(STREAM, { tenantId: 'tenant-a' })).length).toBe(late.state.version);
    // A plain load (a query's answer) still reads what others appended.
    await b.handle(postMessage('m6', 'for a query'), { tenantId: 'tenant-a', sessionId: 's1' });
    expect((await a.load('tenant-a', 's1'))?.messages.at(-1)?.content).toBe('for a query');
    // Nothing cached: a command's load folds the store like any other.
    const cold = createSessionEngine({ store, index: setup().index, partitions: 12 });
    expect((await cold.load('tenant-a', 's1', { forCommand: true }))?.messages).toHaveLength(6);
  });

  it('gives a worker whose lease is unbroken its cached session without reading, when it holds all it was delivered', async () => {
    const { store, index, counted, a, b } = await twoEngines();
    const lease = (await index.acquire('tenant-a', 's1', 'replica-1', 60_000))!;
    await a.handle(postMessage('m1', 'fenced'), { tenantId: 'tenant-a', sessionId: 's1', lease });
    // An unfenced append through the same engine (a gateway in the process) keeps the epoch.
    await a.handle(postMessage('m2', 'unfenced'), { tenantId: 'tenant-a', sessionId: 's1' });
    // So does a plain load (a request's) whose read of the log finds nothing new.
    counted.calls.length = 0;
    await a.load('tenant-a', 's1');
    expect(counted.calls).toHaveLength(1);
    const head = (await store.readStream(STREAM, { tenantId: 'tenant-a' })).length;
    const seen: string[] = [];
    const upTo = (version: number) => (streamId: string) => (seen.push(streamId), version);
    counted.calls.length = 0;
    expect((await a.load('tenant-a', 's1', { lease, seen: upTo(head) }))?.version).toBe(head);
    expect(counted.calls).toHaveLength(0);
    expect(seen).toEqual([STREAM]);
    // Delivered a version the cache lacks: read.
    expect((await a.load('tenant-a', 's1', { lease, seen: upTo(head + 1) }))?.version).toBe(head);
    expect(counted.calls).toHaveLength(1);
    // Another lease (another epoch): read.
    const other = { ...lease, epoch: lease.epoch + 1 };
    await a.load('tenant-a', 's1', { lease: other, seen: upTo(0) });
    expect(counted.calls).toHaveLength(2);
    // Someone else appended: the catch-up that finds it forgets the epoch, so the next load reads.
    await b.handle(postMessage('m3', 'elsewhere'), { tenantId: 'tenant-a', sessionId: 's1' });
    expect((await a.load('tenant-a', 's1'))?.messages).toHaveLength(3);
    counted.calls.length = 0;
    expect((await a.load('tenant-a', 's1', { lease, seen: upTo(0) }))?.messages).toHaveLength(3);
    expect(counted.calls).toHaveLength(1);
  });

  it('takes in what another writer appended, as delivered, so its worker does not read it back; a forged, reordered or other tenant’s event changes nothing', async () => {
    const { index, counted, a, b } = await twoEngines();
    const lease = (await index.acquire('tenant-a', 's1', 'replica-1', 60_000))!;
    await a.handle(postMessage('m1', 'fenced'), { tenantId: 'tenant-a', sessionId: 's1', lease });
    const elsewhere = async (id: string, content: string): Promise<EventEnvelope> => {
      const { events } = await b.handle(postMessage(id, content), { tenantId: 'tenant-a', sessionId: 's1' });
      return events[0]!;
    };
    const delivered = (version: number) => () => version;
    const m2 = await elsewhere('m2', 'from a gateway');
    const m3 = await elsewhere('m3', 'and another');
    a.observe(m3); // not the next version: ignored
    a.observe({ ...m2, tenantId: 'tenant-b', streamId: sessionStreamId('tenant-b', 's1') });
    a.observe(m2);
    a.observe(m3);
    counted.calls.length = 0;
    const state = await a.load('tenant-a', 's1', { lease, seen: delivered(m3.version) });
    expect(counted.calls).toHaveLength(0);
    expect(state?.messages.map((message) => message.content)).toEqual([
      'fenced',
      'from a gateway',
      'and another',
    ]);
    expect(state).toEqual(await b.load('tenant-a', 's1'));
    // The next version and the right previous hash, with its content changed: not the stored event.
    const m4 = await elsewhere('m4', 'as stored');
    a.observe({ ...m4, data: { ...(m4.data as object), content: 'forged' } });
    const read = await a.load('tenant-a', 's1', { lease, seen: delivered(m4.version) });
    expect(counted.calls).toHaveLength(1);
    expect(read?.messages.at(-1)?.content).toBe('as stored');
  });

  it('takes in an event read from the log as stored, without recomputing its hash (what a load reads is not checked either)', async () => {
    const { counted, a, b } = await twoEngines();
    await a.load('tenant-a', 's1');
    const { events } = await b.handle(postMessage('m1', 'as stored'), {
      tenantId: 'tenant-a',
      sessionId: 's1',
    });
    // A body that is not what the hash covers: the bus' check refuses it, the store's path does not
    // look (only the log itself hands the store's path its events).
    const altered = events.map((event) =>
      event.type === 'UserMessageReceived'
        ? { ...event, data: { ...(event.data as object), content: 'read from the log' } }
        : event,
    );
    for (const event of altered) a.observe(event, 'bus');
    counted.calls.length = 0;
    expect((await a.load('tenant-a', 's1', { forCommand: true }))?.messages).toHaveLength(0);
    for (const event of altered) a.observe(event, 'store');
    const state = await a.load('tenant-a', 's1', { forCommand: true });
    expect(state?.messages.map((m) => m.content)).toEqual(['read from the log']);
    expect(state?.version).toBe(events.at(-1)?.version);
    expect(counted.calls).toHaveLength(0);
  });

  it('decides a command on the cached session when its own worker appends to it under a lease; a stale cache is corrected', async () => {
    const { store, index } = setup();
    const counted = recordingCalls(store, 'readStream');
    const a = createSessionEngine({ store: counted.store, index, partitions: 12 });
    const b = createSessionEngine({ store, index, partitions: 12 });
    const ref = { tenantId: 'tenant-a', sessionId: 's1' };
    const cancel = (): SessionCommand => ({ type: 'CancelTurn', data: {}, metadata: meta() });
    await a.handle(startSession('s1', 'tenant-a', { ...singleTeam(), onBusy: 'reject' }), ref);
    const lease = (await index.acquire('tenant-a', 's1', 'replica-1', 60_000))!;
    await a.handle(postMessage('m1', 'first'), { ...ref, lease });
    counted.calls.length = 0;
    // The in-process runtime's worker holds the lease: a command (a gateway in the process) reads nothing.
    expect((await a.handle(cancel(), ref)).events.map((e) => e.type)).toContain('TurnCancelled');
    expect(counted.calls).toHaveLength(0);
    await a.handle(postMessage('m2', 'second'), { ...ref, lease });
    // Another replica ended the turn: the cached session still says busy, which would refuse the
    // message; a refusal on the cache is decided again on the store.
    await b.handle(cancel(), ref);
    const { state } = await a.handle(postMessage('m3', 'third'), ref);
    expect(state.messages.map((m) => m.content)).toEqual(['first', 'second', 'third']);
    expect(counted.calls).toHaveLength(1);
    expect(state.version).toBe((await store.readStream(STREAM, { tenantId: 'tenant-a' })).length);
    // Busy on the store too: the refusal stands.
    await expect(a.handle(postMessage('m4', 'fourth'), ref)).rejects.toThrow(/busy/i);
  });

  it('never lends one tenant the session its worker holds under a lease to another tenant with the same session id', async () => {
    const { store, index } = setup();
    const a = createSessionEngine({ store, index, partitions: 12 });
    const ofA = { tenantId: 'tenant-a', sessionId: 's1' };
    const ofB = { tenantId: 'tenant-b', sessionId: 's1' };
    await a.handle(startSession('s1'), ofA);
    const lease = (await index.acquire('tenant-a', 's1', 'replica-1', 60_000))!;
    await a.handle(postMessage('m1', 'tenant a only'), { ...ofA, lease });
    // Tenant a's entry is trusted (it carries the epoch); tenant b's command on "s1" is not its.
    await expect(a.handle(postMessage('m2', 'from b'), ofB)).rejects.toThrow(/not started/);
    await a.handle(startSession('s1', 'tenant-b'), ofB);
    const { state } = await a.handle(postMessage('m3', 'tenant b only'), ofB);
    expect(state.tenantId).toBe('tenant-b');
    expect(state.messages.map((m) => m.content)).toEqual(['tenant b only']);
    expect((await a.load('tenant-a', 's1'))?.messages.map((m) => m.content)).toEqual(['tenant a only']);
  });

  it('as the sole writer, loads and appends on its cached session without reading the store', async () => {
    const { store, index } = setup();
    const reads = recordingCalls(store, 'readStream');
    const folds = recordingCalls(reads.store, 'aggregate');
    const sole = createSessionEngine({ store: folds.store, index, partitions: 12, soleWriter: true });
    const ref = { tenantId: 'tenant-a', sessionId: 's1' };
    await sole.handle(startSession('s1'), ref);
    const cold = folds.calls.length;
    expect((await sole.load('tenant-a', 's1'))?.version).toBe(1);
    const { state } = await sole.handle(postMessage('m1', 'hello'), ref);
    expect((await sole.load('tenant-a', 's1'))?.messages).toEqual(state.messages);
    expect([reads.calls.length, folds.calls.length]).toEqual([0, cold]);
    // A writer the flag did not account for: the stale first attempt is refused by its expected
    // version, and the retry reads what that writer appended.
    const other = createSessionEngine({ store, index, partitions: 12 });
    await other.handle(postMessage('m2', 'elsewhere'), ref);
    const after = await sole.handle(postMessage('m3', 'after'), ref);
    expect(after.state.messages.map((m) => m.content)).toEqual(['hello', 'elsewhere', 'after']);
    expect(reads.calls).toHaveLength(1);
  });

  it('decides again on the stream when a lease holder finds nothing to do on its cached session', async () => {
    const { store, index } = setup();
    const a = createSessionEngine({ store, index, partitions: 12 });
    const b = createSessionEngine({ store, index, partitions: 12 });
    await a.handle(startSession('s1'), { tenantId: 'tenant-a', sessionId: 's1' });
    const lease = (await index.acquire('tenant-a', 's1', 'replica-1', 60_000))!;
    await b.handle(postMessage('m1', 'first'), { tenantId: 'tenant-a', sessionId: 's1' });
    const cancel: SessionCommand = { type: 'CancelTurn', data: {}, metadata: meta() };
    const { state, events } = await a.handle(cancel, { tenantId: 'tenant-a', sessionId: 's1', lease });
    expect(events.map((e) => e.type)).toContain('TurnCancelled');
    expect(state.messages.map((m) => m.content)).toEqual(['first']);
  });

  it('folds a session as of an earlier version', async () => {
    const { repository } = setup();
    await repository.handle(startSession('s1'), { tenantId: 'tenant-a', sessionId: 's1' });
    await repository.handle(postMessage('m1', 'hello'), { tenantId: 'tenant-a', sessionId: 's1' });
    const at1 = await repository.loadAt('tenant-a', 's1', 1);
    expect(at1?.version).toBe(1);
    expect(at1?.messages).toEqual([]);
  });

  it('snapshots a session it keeps cached, so a cold load folds only the events after the snapshot', async () => {
    const { store, index } = setup();
    const warm = createSessionEngine({ store, index, partitions: 12, snapshotEvery: 4 });
    const ref = { tenantId: 'tenant-a', sessionId: 's1' };
    await warm.handle(startSession('s1'), ref);
    let state = (await warm.handle(postMessage('m0', 'hello 0'), ref)).state;
    for (let i = 1; state.version < 9; i += 1)
      state = (await warm.handle(postMessage(`m${i}`, `hello ${i}`), ref)).state;
    const snapshot = await store.loadSnapshot(STREAM, { tenantId: 'tenant-a', schemaTag: 'session-v1' });
    expect(snapshot?.version).toBeGreaterThanOrEqual(8);
    expect(state.version - snapshot!.version).toBeLessThan(4);
    const cold = createSessionEngine({ store, index, partitions: 12, snapshotEvery: 0 });
    expect(await cold.load('tenant-a', 's1')).toEqual(state);
  });

  it('spreads the snapshots of a cached session as its stream grows, so their bytes per event stay flat', async () => {
    const { store, index } = setup();
    const saved: number[] = [];
    const saveSnapshot = store.saveSnapshot.bind(store);
    const recording = {
      ...store,
      saveSnapshot: (snapshot: Parameters<typeof store.saveSnapshot>[0]) => {
        saved.push(snapshot.version);
        return saveSnapshot(snapshot);
      },
    };
    const engine = createSessionEngine({ store: recording, index, partitions: 12, snapshotEvery: 2 });
    const ref = { tenantId: 'tenant-a', sessionId: 's1' };
    let state = (await engine.handle(startSession('s1'), ref)).state;
    for (let i = 0; state.version < 64; i += 1)
      state = (await engine.handle(postMessage(`m${i}`, `hello ${i}`), ref)).state;
    // Every 2 events up to 16, every 4 up to 32, every 8 up to 64, each at the end of the append
    // that crossed it (the first message's took the stream from 1 to 5): 15 snapshots, where a
    // fixed interval of 2 would have written one at each even version, 31.
    expect(saved).toEqual([5, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64]);
    const cold = createSessionEngine({ store, index, partitions: 12, snapshotEvery: 0 });
    expect(await cold.load('tenant-a', 's1')).toEqual(state);
  });

  it.each([
    { when: 'when snapshots are off', snapshotEvery: 0, messages: 5 },
    { when: 'before its stream reaches snapshotEvery events', snapshotEvery: 1_000, messages: 3 },
  ])('writes no snapshot of a cached session $when', async ({ snapshotEvery, messages }) => {
    const { store, index } = setup();
    const engine = createSessionEngine({ store, index, partitions: 12, snapshotEvery });
    const ref = { tenantId: 'tenant-a', sessionId: 's1' };
    await engine.handle(startSession('s1'), ref);
    for (let i = 0; i < messages; i += 1) await engine.handle(postMessage(`m${i}`, `hello ${i}`), ref);
    expect(
      await store.loadSnapshot(STREAM, { tenantId: 'tenant-a', schemaTag: 'session-v1' }),
    ).toBeUndefined();
  });

  it('finds no session as of a version of a session that does not exist', async () => {
    const { repository } = setup();
    await repository.handle(startSession('s1'), { tenantId: 'tenant-a', sessionId: 's1' });
    expect(await repository.loadAt('tenant-b', 's1', 5)).toBeUndefined();
    expect(await repository.loadAt('tenant-a', 's1', 0)).toBeUndefined();
  });

  it('folds a lease holder with nothing cached once when its command decides nothing', async () => {
    const { store, index } = setup();
    await createSessionEngine({ store, index, partitions: 12 }).handle(startSession('s1'), {
      tenantId: 'tenant-a',
      sessionId: 's1',
    });
    const folds = recordingCalls(store, 'aggregate');
    const cold = createSessionEngine({ store: folds.store, index, partitions: 12 });
    const lease = (await index.acquire('tenant-a', 's1', 'replica-1', 60_000))!;
    const cancel: SessionCommand = { type: 'CancelTurn', data: {}, metadata: meta() };
    const { events, duplicate } = await cold.handle(cancel, { tenantId: 'tenant-a', sessionId: 's1', lease });
    expect(events).toEqual([]);
    expect(duplicate).toBe(false);
    expect(folds.calls).toHaveLength(1);
  });

  it('imports a stream with its read-model row in the same call, and returns the folded session', async () => {
    const source = setup();
    const ref = { tenantId: 'tenant-a', sessionId: 's1' };
    await source.repository.handle(startSession('s1'), ref);
    await source.repository.handle(postMessage('m1', 'hello'), ref);
    const exported = await source.store.readStream(STREAM, { tenantId: 'tenant-a', raw: true });
    const { repository, index } = setup();
    const imported = await repository.importStream('tenant-a', STREAM, exported);
    expect(imported).toMatchObject({
      duplicate: false,
      state: { sessionId: 's1', version: exported.length },
    });
    expect(await index.get('tenant-a', 's1')).toMatchObject({
      streamId: STREAM,
      version: exported.length,
      status: imported.state.status,
      pendingWork: true,
    });
  });

  it('drops its cached copy of a session whose stream it imports (a duplicate import too)', async () => {
    const { repository, store, index } = setup();
    const ref = { tenantId: 'tenant-a', sessionId: 's1' };
    await repository.handle(startSession('s1'), ref);
    // Another replica moves the session on; this engine's cached copy is now behind.
    const other = createSessionEngine({ store, index, partitions: 12 });
    await other.handle(postMessage('m1', 'hello'), ref);
    const exported = await store.readStream(STREAM, { tenantId: 'tenant-a', raw: true });
    expect(repository.cache().entries).toBe(1);
    const imported = await repository.importStream('tenant-a', STREAM, exported);
    expect(imported.duplicate).toBe(true);
    expect(repository.cache()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('re-folds the session from the store after an idempotent duplicate, caching its measured size', async () => {
    const { repository } = setup();
    const ref = { tenantId: 'tenant-a', sessionId: 's1' };
    await repository.handle(startSession('s1'), ref);
    await repository.handle(postMessage('m1', 'hello'), { ...ref, idempotencyKey: 'k1' });
    const duplicate = await repository.handle(postMessage('m2', 'hello'), { ...ref, idempotencyKey: 'k1' });
    expect(duplicate.duplicate).toBe(true);
    expect(repository.cache()).toMatchObject({ entries: 1, bytes: estimatedBytes(duplicate.state) });
  });

  it('starts from the store after an append whose outcome is unknown, not from a cached session that may be behind', async () => {
    const { store, index } = setup();
    let appends = 0;
    let failNext = false;
    const flaky = {
      ...store,
      append: (async (...args: Parameters<typeof store.append>) => {
        appends += 1;
        const result = await store.append(...args);
        if (failNext) {
          failNext = false;
          throw new Error('connection reset after commit');
        }
        return result;
      }) as typeof store.append,
    };
    const engine = createSessionEngine({ store: flaky, index, partitions: 12 });
    const ref = { tenantId: 'tenant-a', sessionId: 's1' };
    await engine.handle(startSession('s1'), ref);
    const lease = (await index.acquire('tenant-a', 's1', 'replica-1', 60_000))!;
    failNext = true;
    await expect(engine.handle(postMessage('m1', 'first'), { ...ref, lease })).rejects.toThrow(
      'connection reset after commit',
    );
    appends = 0;
    const { state } = await engine.handle(postMessage('m2', 'second'), { ...ref, lease });
    expect(appends).toBe(1); // no conflict on a stale cached session first
    expect(state.version).toBe((await store.readStream(STREAM, { tenantId: 'tenant-a' })).length);
  });
  it('retries an append the database rolled back for a concurrent change (a deadlock): the result is recorded once', async () => {
    const { store, index } = setup();
    const refusals: string[] = [];
    const deadlocking = {
      ...store,
      append: (async (...args: Parameters<typeof store.append>) => {
        // The first attempt of each appended command loses a deadlock: nothing is written.
        const [, events] = args;
        const key = events.map((e) => e.type).join(',');
        if (!refusals.includes(key)) {
          refusals.push(key);
          throw new ConcurrentChange(new Error('deadlock detected'));
        }
        return store.append(...args);
      }) as typeof store.append,
    };
    const engine = createSessionEngine({ store: deadlocking, index, partitions: 12 });
    const ref = { tenantId: 'tenant-a', sessionId: 's1' };
    await engine.handle(startSession('s1'), ref);
    const lease = (await index.acquire('tenant-a', 's1', 'replica-1', 60_000))!;
    const { state, events } = await engine.handle(postMessage('m1', 'first'), { ...ref, lease });
    expect(events.map((e) => e.type)).toContain('UserMessageReceived');
    expect(refusals).toHaveLength(2);
    const stored = await store.readStream(STREAM, { tenantId: 'tenant-a' });
    expect(stored.filter((e) => e.type === 'UserMessageReceived')).toHaveLength(1);
    expect(state.version).toBe(stored.length);
  });
});

describe('session engine edges', () => {
  const ref = { tenantId: 'tenant-a', sessionId: 's1' };
  const dataBytes = (events: readonly EventEnvelope[]) =>
    events.reduce((sum, event) => sum + estimatedBytes(event.data), 0);

  it('grows a cached session’s size by the bytes of the events another writer appended since', async () => {
    const { repository, store, index } = setup();
    const started = await repository.handle(startSession('s1'), ref);
    const before = repository.cache().bytes;
    await createSessionEngine({ store, index, partitions: 12 }).handle(postMessage('m1', 'hello'), ref);
    await repository.load('tenant-a', 's1');
    const newer = await store.readStream(STREAM, {
      tenantId: 'tenant-a',
      fromVersion: started.state.version + 1,
    });
    expect(newer.length).toBeGreaterThan(0);
    expect(repository.cache()).toMatchObject({ entries: 1, bytes: before + dataBytes(newer) });
  });

  it.each([
    { given: 'no snapshotEvery', deps: {}, passed: 200 },
    { given: 'snapshotEvery 5', deps: { snapshotEvery: 5 }, passed: 5 },
  ])(
    'folds a session from the store snapshotting every $passed events when given $given',
    async ({ deps, passed }) => {
      const { store, index } = setup();
      const folds = recordingCalls(store, 'aggregate');
      await createSessionEngine({ store: folds.store, index, partitions: 12, ...deps }).load(
        'tenant-a',
        's1',
      );
      expect(folds.calls.map((args) => args[3]?.snapshotEvery)).toEqual([passed]);
    },
  );

  it('returns no events for an idempotent duplicate whose first append wrote none', async () => {
    const { repository, store } = setup();
    await repository.handle(startSession('s1'), ref);
    await store.append(STREAM, [], { tenantId: 'tenant-a', expectedVersion: 'any', idempotencyKey: 'k1' });
    const duplicate = await repository.handle(postMessage('m1', 'hello'), { ...ref, idempotencyKey: 'k1' });
    expect(duplicate.duplicate).toBe(true);
    expect(duplicate.events).toEqual([]);
  });

  it('appends nothing for a command that decides nothing', async () => {
    const { store, index } = setup();
    const appends = recordingCalls(store, 'append');
    const engine = createSessionEngine({ store: appends.store, index, partitions: 12 });
    await engine.handle(startSession('s1'), ref);
    const cancel: SessionCommand = { type: 'CancelTurn', data: {}, metadata: meta() };
    const handled = await engine.handle(cancel, ref);
    expect(handled).toMatchObject({ duplicate: false, state: { version: 1 } });
    expect(handled.events).toEqual([]);
    expect(appends.calls).toHaveLength(1);
  });

  it('hands the store no metadata for a command that has none, traced by no SDK', async () => {
    const { store, index } = setup();
    const appends = recordingCalls(store, 'append');
    await createSessionEngine({ store: appends.store, index, partitions: 12 }).handle(
      startSession('s1'),
      ref,
    );
    expect(appends.calls.map((args) => args[2].metadata)).toStrictEqual([undefined]);
  });
});
