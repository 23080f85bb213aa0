import type { EventEnvelope } from './envelope.ts';
import type { AggregateOptions, AggregateResult, Evolve, EventStore, ReadStreamOptions } from './store.ts';

type Deps = Readonly<{
  readStream: (streamId: string, options: ReadStreamOptions) => Promise<readonly EventEnvelope[]>;
  loadSnapshot: EventStore['loadSnapshot'];
  saveSnapshot: EventStore['saveSnapshot'];
}>;

/**
 * Folds a stream from its newest snapshot carrying `schemaTag` (default 'v1'), reading pages of
 * `pageSize` events; saves a new snapshot when `snapshotEvery` events were folded past the last.
 * The state must survive JSON (it is stored as jsonb).
 */
export const aggregateStream = async <S>(
  deps: Deps,
  streamId: string,
  evolve: Evolve<S>,
  initial: S,
  options: AggregateOptions,
): Promise<AggregateResult<S>> => {
  const { tenantId, snapshotEvery, schemaTag = 'v1', pageSize = 10_000 } = options;
  const snapshot = await deps.loadSnapshot<S>(streamId, { tenantId, schemaTag });
  let state = snapshot?.state ?? initial;
  let version = snapshot?.version ?? 0;
  for (;;) {
    const page = await deps.readStream(streamId, { tenantId, fromVersion: version + 1, limit: pageSize });
    for (const event of page) state = evolve(state, event);
    if (page.length > 0) version = page[page.length - 1]?.version ?? version;
    if (page.length < pageSize) break;
  }
  const folded = version - (snapshot?.version ?? 0);
  if (snapshotEvery !== undefined && snapshotEvery > 0 && folded >= snapshotEvery)
    await deps.saveSnapshot({ streamId, tenantId, version, schemaTag, state });
  return snapshot === undefined ? { state, version } : { state, version, snapshotVersion: snapshot.version };
};
