import type { EventEnvelope } from './envelope.ts';
import type { AggregateOptions, AggregateResult, Evolve, EventStore, ReadStreamOptions } from './store.ts';

type Deps = Readonly<{
  readStream: (streamId: string, options: ReadStreamOptions) => Promise<readonly EventEnvelope[]>;
  loadSnapshot: EventStore['loadSnapshot'];
  saveSnapshot: EventStore['saveSnapshot'];
  /** The stream's head version, when cheap to know: pages up to it are then read in parallel. */
  headVersion?: (streamId: string, tenantId: string) => Promise<number>;
}>;

const PARALLEL_PAGES = 4;

/**
 * Folds a stream from its newest snapshot carrying `schemaTag` (default 'v1'), and saves a new
 * snapshot when `snapshotEvery` events were folded past the last. Pages of `pageSize` (default
 * 2,500) up to the head are read a few at a time in parallel and folded in order as they arrive;
 * then pages are read until the end. The state must survive JSON (it is stored as jsonb).
 */
export const aggregateStream = async <S>(
  deps: Deps,
  streamId: string,
  evolve: Evolve<S>,
  initial: S,
  options: AggregateOptions,
): Promise<AggregateResult<S>> => {
  const { tenantId, snapshotEvery, schemaTag = 'v1', pageSize = 2_500 } = options;
  const [snapshot, head] = await Promise.all([
    deps.loadSnapshot<S>(streamId, { tenantId, schemaTag }),
    deps.headVersion?.(streamId, tenantId),
  ]);
  let state = snapshot?.state ?? initial;
  let version = snapshot?.version ?? 0;
  const fold = (page: readonly EventEnvelope[]): void => {
    for (const event of page) state = evolve(state, event);
    version = page.at(-1)?.version ?? version;
  };
  if (head !== undefined && head - version > pageSize) {
    const starts: number[] = [];
    for (let start = version + 1; start <= head; start += pageSize) starts.push(start);
    const launch = (start: number): Promise<readonly EventEnvelope[]> => {
      const page = deps.readStream(streamId, {
        tenantId,
        fromVersion: start,
        toVersion: Math.min(start + pageSize - 1, head),
      });
      page.catch(() => undefined);
      return page;
    };
    const pages = starts.slice(0, PARALLEL_PAGES).map(launch);
    for (let index = 0; index < starts.length; index += 1) {
      const next = starts[index + PARALLEL_PAGES];
      if (next !== undefined) pages.push(launch(next));
      fold(await (pages[index] as Promise<readonly EventEnvelope[]>));
    }
  }
  for (;;) {
    const page = await deps.readStream(streamId, { tenantId, fromVersion: version + 1, limit: pageSize });
    fold(page);
    if (page.length < pageSize) break;
  }
  const folded = version - (snapshot?.version ?? 0);
  if (snapshotEvery !== undefined && snapshotEvery > 0 && folded >= snapshotEvery)
    await deps.saveSnapshot({ streamId, tenantId, version, schemaTag, state });
  return snapshot === undefined ? { state, version } : { state, version, snapshotVersion: snapshot.version };
};
