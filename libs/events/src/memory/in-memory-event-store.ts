import { aggregateStream } from '../aggregate.ts';
import type { EventEnvelope, NewEvent } from '../envelope.ts';
import { InvalidEvent, StreamTenantMismatch, StreamVersionConflict } from '../errors.ts';
import { GENESIS_HASH } from '../hash.ts';
import { checkImport, envelopeOf, expectedAsNumber, prepareEvents, verifyChain } from '../prepare.ts';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ImportOptions,
  InlineProjection,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
} from '../store.ts';
import { createAppendSignal, startSubscription, tellCommitted } from '../subscription.ts';
import { createUpcast, type Upcaster } from '../upcasting.ts';

export type InMemoryEventStoreOptions = Readonly<{
  /** Run inside every append before it becomes visible; a throw discards the append. */
  projections?: readonly InlineProjection<undefined>[];
  upcasters?: readonly Upcaster[];
}>;

type Stream = { tenantId: string; events: EventEnvelope[] };

const importResult = (
  streamId: string,
  events: readonly EventEnvelope[],
  duplicate: boolean,
): AppendResult => ({
  streamId,
  versions: events.map((event) => event.version),
  globalPositions: events.map((event) => event.globalPosition),
  nextExpectedVersion: events.length,
  duplicate,
});

/**
 * The event store in process memory, for unit tests and the in-memory team runner. Same contract
 * as the Postgres adapters (versions, idempotency, hash chain, snapshots, checkpoints, upcasting);
 * appends are serialised, so `readAll` never sees a gap.
 */
export const createInMemoryEventStore = (options: InMemoryEventStoreOptions = {}): EventStore<undefined> => {
  const streams = new Map<string, Stream>();
  const all: EventEnvelope[] = [];
  const eventIds = new Set<string>();
  const idempotency = new Map<string, AppendResult>();
  const checkpoints = new Map<string, number>();
  const snapshots = new Map<string, Snapshot>();
  const signal = createAppendSignal();
  const commitListeners = new Set<(own?: AppendResult) => void>();
  const upcast = createUpcast(options.upcasters);
  let queue: Promise<unknown> = Promise.resolve();

  const serialised = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  };

  const appendNow = async (
    streamId: string,
    newEvents: readonly NewEvent[],
    appendOptions: AppendOptions<undefined>,
  ): Promise<AppendResult> => {
    const { tenantId, idempotencyKey } = appendOptions;
    if (appendOptions.declared !== undefined)
      throw new InvalidEvent(
        'a declared projection runs in a SQL database: the memory store takes `inline` ones',
      );
    const prepared = prepareEvents(streamId, newEvents, appendOptions);
    const expected = expectedAsNumber(appendOptions.expectedVersion);
    const stream = streams.get(streamId);
    if (stream !== undefined && stream.tenantId !== tenantId) throw new StreamTenantMismatch(streamId);
    const key =
      idempotencyKey === undefined ? undefined : JSON.stringify([tenantId, streamId, idempotencyKey]);
    const earlier = key === undefined ? undefined : idempotency.get(key);
    if (earlier !== undefined) return { ...earlier, duplicate: true };
    const current = stream?.events.length ?? 0;
    if (expected !== null && expected !== current)
      throw new StreamVersionConflict(
        streamId,
        appendOptions.expectedVersion === 'no_stream' ? 'no_stream' : expected,
        current,
      );
    let prevHash = stream?.events.at(-1)?.hash ?? GENESIS_HASH;
    const stored = prepared.map((event, index) => {
      if (eventIds.has(event.eventId)) throw new InvalidEvent(`event id ${event.eventId} is already stored`);
      const envelope = envelopeOf(
        streamId,
        tenantId,
        event,
        current + index + 1,
        all.length + index + 1,
        prevHash,
      );
      prevHash = envelope.hash;
      return envelope;
    });
    for (const projection of [
      ...(options.projections ?? []),
      ...(appendOptions.inline ? [appendOptions.inline] : []),
    ])
      await projection({ tx: undefined, streamId, events: stored, options: appendOptions });
    const target = stream ?? { tenantId, events: [] };
    streams.set(streamId, target);
    target.events.push(...stored);
    all.push(...stored);
    for (const event of stored) eventIds.add(event.eventId);
    const result: AppendResult = {
      streamId,
      versions: stored.map((event) => event.version),
      globalPositions: stored.map((event) => event.globalPosition),
      nextExpectedVersion: target.events.length,
      duplicate: false,
    };
    if (key !== undefined) idempotency.set(key, result);
    if (stored.length > 0) {
      signal.notify();
      tellCommitted(commitListeners, result);
    }
    return result;
  };

  const importNow = async (
    streamId: string,
    events: readonly EventEnvelope[],
    importOptions: ImportOptions<undefined>,
  ): Promise<AppendResult> => {
    const { tenantId } = importOptions;
    const verified = checkImport(streamId, tenantId, events);
    const existing = streams.get(streamId);
    if (existing !== undefined) {
      if (existing.tenantId !== tenantId) throw new StreamTenantMismatch(streamId);
      const head = existing.events.at(-1);
      if (existing.events.length === events.length && head?.hash === verified.headHash)
        return importResult(streamId, existing.events, true);
      throw new StreamVersionConflict(streamId, 'no_stream', existing.events.length);
    }
    for (const event of events)
      if (eventIds.has(event.eventId)) throw new InvalidEvent(`event id ${event.eventId} is already stored`);
    const stored = events.map((event, index): EventEnvelope => ({
      ...event,
      data: structuredClone(event.data),
      metadata: structuredClone(event.metadata),
      globalPosition: all.length + index + 1,
    }));
    const base = { tenantId, expectedVersion: 'no_stream' } as const;
    for (const projection of [
      ...(options.projections ?? []),
      ...(importOptions.inline ? [importOptions.inline] : []),
    ])
      await projection({ tx: undefined, streamId, events: stored, options: base });
    streams.set(streamId, { tenantId, events: stored });
    all.push(...stored);
    for (const event of stored) eventIds.add(event.eventId);
    signal.notify();
    const result = importResult(streamId, stored, false);
    tellCommitted(commitListeners, result);
    return result;
  };

  const readStream = async (
    streamId: string,
    readOptions: ReadStreamOptions,
  ): Promise<readonly EventEnvelope[]> => {
    const stream = streams.get(streamId);
    if (stream === undefined || stream.tenantId !== readOptions.tenantId) return [];
    const from = Math.max(readOptions.fromVersion ?? 1, 1);
    const to = readOptions.toVersion ?? stream.events.length;
    const end = Math.min(
      to,
      stream.events.length,
      readOptions.limit === undefined ? Infinity : from - 1 + readOptions.limit,
    );
    const events = stream.events.slice(from - 1, Math.max(end, from - 1));
    return readOptions.raw === true ? events : events.map(upcast);
  };

  const readAll = async (readOptions: ReadAllOptions = {}): Promise<readonly EventEnvelope[]> => {
    const { after = 0, limit = Infinity, tenantId } = readOptions;
    const out: EventEnvelope[] = [];
    for (let index = after; index < all.length && out.length < limit; index += 1) {
      const event = all[index];
      if (event !== undefined && (tenantId === undefined || event.tenantId === tenantId))
        out.push(upcast(event));
    }
    return out;
  };

  // Appends are serialised: what is committed is readable.
  const committedHead = async ({ tenantId }: { tenantId?: string } = {}): Promise<number> =>
    all.findLast((event) => tenantId === undefined || event.tenantId === tenantId)?.globalPosition ?? 0;

  const loadSnapshot = async <S>(
    streamId: string,
    { tenantId, schemaTag }: { tenantId: string; schemaTag: string },
  ): Promise<Snapshot<S> | undefined> => {
    const snapshot = snapshots.get(JSON.stringify([streamId, schemaTag]));
    if (snapshot === undefined || snapshot.tenantId !== tenantId) return undefined;
    return { ...snapshot, state: structuredClone(snapshot.state) as S };
  };

  const saveSnapshot = async (snapshot: Snapshot): Promise<void> => {
    const key = JSON.stringify([snapshot.streamId, snapshot.schemaTag]);
    const existing = snapshots.get(key);
    if (existing !== undefined && existing.version >= snapshot.version) return;
    snapshots.set(key, { ...snapshot, state: JSON.parse(JSON.stringify(snapshot.state)) as unknown });
  };

  const loadCheckpoint = async (subscriberId: string): Promise<number | undefined> =>
    checkpoints.get(subscriberId);
  const saveCheckpoint = async (subscriberId: string, position: number): Promise<void> => {
    checkpoints.set(subscriberId, position);
  };

  return {
    append: (streamId, events, appendOptions) => serialised(() => appendNow(streamId, events, appendOptions)),
    importStream: (streamId, events, importOptions) =>
      serialised(() => importNow(streamId, events, importOptions)),
    readStream,
    readAll,
    // Appends are serialised: a read never stops short of a committed event.
    readPage: async (pageOptions) => ({ events: await readAll(pageOptions) }),
    committedHead,
    onCommit: (listener) => {
      commitListeners.add(listener);
      return () => {
        commitListeners.delete(listener);
      };
    },
    subscribe: (subscribeOptions) =>
      startSubscription(
        {
          readAll,
          loadCheckpoint,
          saveCheckpoint,
          headPosition: async () => all.length,
          appendCount: signal.count,
          waitForAppend: signal.wait,
        },
        subscribeOptions,
      ),
    verifyStream: async (streamId, { tenantId }) => {
      const stream = streams.get(streamId);
      return verifyChain(streamId, stream === undefined || stream.tenantId !== tenantId ? [] : stream.events);
    },
    aggregate: (streamId, evolve, initial, aggregateOptions) =>
      aggregateStream(
        { readStream, loadSnapshot, saveSnapshot },
        streamId,
        evolve,
        initial,
        aggregateOptions,
      ),
    loadCheckpoint,
    saveCheckpoint,
    loadSnapshot,
    saveSnapshot,
    close: async () => {
      commitListeners.clear();
    },
  };
};
