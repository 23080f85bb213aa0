import { replayDecisions, type RecordedSessionEvent, type SessionEvent } from '@agentledger/agents';
import {
  computeEventHash,
  GENESIS_HASH,
  sessionStreamId,
  sha256Hex,
  type EventEnvelope,
  type EventStore,
} from '@agentledger/events';
import type { SessionEngine } from '../engine/session-engine.ts';
import { BundleRejected, readBundle, writeBundle, type BundleProblem } from './bundle.ts';
import type { CheckpointSigner, CheckpointStore } from './checkpoints.ts';

export type ImportSessionDeps = Readonly<{
  engine: Pick<SessionEngine, 'importStream'>;
  /** Where verified checkpoints of a bundle are kept; absent with `signer`: checkpoints are off. */
  checkpoints?: CheckpointStore;
  signer?: CheckpointSigner;
  /**
   * The operator's team spec check (what `PUT /v1/teams` runs): a bundle's pinned spec names model
   * endpoints and tools, so it must pass it before the session can run here. Problems name the path.
   */
  /** The installation's team spec check (it may list an MCP server's tools, hence async). */
  checkSpec: (
    spec: unknown,
  ) =>
    | readonly Readonly<{ path: string; message: string }>[]
    | Promise<readonly Readonly<{ path: string; message: string }>[]>;
}>;

export type ImportedSession = Readonly<{
  tenantId: string;
  sessionId: string;
  streamId: string;
  eventCount: number;
  headHash: string;
  /** The head hash in the bundle: equal to `headHash` unless the tenant was mapped. */
  sourceHeadHash: string;
  /** True when imported into another tenant: tenant, stream and event ids changed, so the chain did. */
  rehashed: boolean;
  /** The same bundle was imported before: nothing was written. */
  duplicate: boolean;
  checkpoints: Readonly<{ imported: number; unverified: number }>;
}>;

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** A UUID (version 8, RFC 9562) derived from the work, so a mapped import is the same every time. */
const derivedUuid = (seed: string): string => {
  const h = sha256Hex(seed);
  const variant = ((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const STARTS = new Set(['SessionStarted', 'SessionForked']);

/**
 * A session starts once: a start event anywhere but first (or first in a fork's parent history)
 * would pin a spec the spec check never saw. Returns the offending version.
 */
const laterStart = (events: readonly Readonly<{ type: string; data: unknown }>[]): number | undefined => {
  for (const [index, event] of events.entries()) {
    if (index > 0 && STARTS.has(event.type)) return index + 1;
    if (index === 0 && event.type === 'SessionForked') {
      const parent = (event.data as { parentEvents?: unknown }).parentEvents;
      if (!Array.isArray(parent) || laterStart(parent as SessionEvent[]) !== undefined) return 1;
    }
  }
  return undefined;
};

/**
 * The stream as it lives in another tenant: the tenant and stream ids, the first event's tenantId
 * and every event id change (ids are unique per installation), so the chain is computed again.
 */
export const mapTenant = (
  events: readonly EventEnvelope[],
  tenantId: string,
  sessionId: string,
): EventEnvelope[] => {
  const streamId = sessionStreamId(tenantId, sessionId);
  let prevHash = GENESIS_HASH;
  return events.map((event) => {
    const data =
      STARTS.has(event.type) && typeof event.data === 'object' && event.data !== null
        ? { ...(event.data as Record<string, unknown>), tenantId }
        : event.data;
    const body = { ...event, streamId, tenantId, data, eventId: derivedUuid(`${tenantId}/${event.eventId}`) };
    const hash = computeEventHash(prevHash, body);
    const mapped = { ...body, prevHash, hash };
    prevHash = hash;
    return mapped;
  });
};

/**
 * `POST /v1/sessions:import` and `agentledger import`: verifies the bundle (chain, head, spec,
 * checkpoints and their signatures), checks the pinned spec as this installation would, and stores
 * the session into `tenantId` through the store's import path with the read model in the same
 * transaction. Into the bundle's own tenant the events keep their hashes byte for byte; into
 * another one they are mapped ({@link mapTenant}). Never overwrites: an existing session is a
 * conflict, the same bundle again a duplicate. Throws `BundleRejected` before anything is written.
 */
export const importSessionBundle = async (
  deps: ImportSessionDeps,
  text: string,
  tenantId: string,
): Promise<ImportedSession> => {
  const bundle = readBundle(text, deps.signer);
  const { manifest } = bundle;
  if (!ID.test(manifest.sessionId))
    throw new BundleRejected([{ field: 'manifest.sessionId', message: 'not a session id' }]);
  const specProblems: BundleProblem[] = (await deps.checkSpec(manifest.spec)).map(({ path, message }) => ({
    field: `manifest.spec${path.replaceAll('/', '.')}`,
    message,
  }));
  if (specProblems.length > 0) throw new BundleRejected(specProblems);
  const twice = laterStart(bundle.events);
  if (twice !== undefined)
    throw new BundleRejected([
      { field: `events[${twice - 1}]`, version: twice, message: `version ${twice} starts the session again` },
    ]);
  // Every recorded decision must be the one this installation's code makes (as `audit` checks).
  const replay = replayDecisions(
    bundle.events.map(
      (e) => ({ type: e.type, data: e.data, recordedAt: e.recordedAt }) as RecordedSessionEvent,
    ),
  );
  if (!replay.matches) {
    const version = replay.firstDivergentVersion ?? bundle.events.length;
    throw new BundleRejected([
      { field: `events[${version - 1}]`, version, message: `decision replay diverges at version ${version}` },
    ]);
  }
  const rehashed = tenantId !== manifest.tenantId;
  const events = rehashed ? mapTenant(bundle.events, tenantId, manifest.sessionId) : bundle.events;
  const streamId = events[0]!.streamId;
  const first = (events[0]?.data ?? {}) as Record<string, unknown>;
  if (!STARTS.has(events[0]!.type) || first.sessionId !== manifest.sessionId || first.tenantId !== tenantId)
    throw new BundleRejected([
      { field: 'events[0]', version: 1, message: 'the first event does not start the manifest’s session' },
    ]);
  const result = await deps.engine.importStream(tenantId, streamId, events);
  const keep =
    rehashed || deps.checkpoints === undefined || deps.signer === undefined
      ? []
      : manifest.checkpoints.filter((c) => c.keyId === deps.signer?.keyId);
  for (const c of keep) await deps.checkpoints?.save({ ...c, tenant: tenantId, streamId });
  const headHash = events.at(-1)!.hash;
  return {
    tenantId,
    sessionId: manifest.sessionId,
    streamId,
    eventCount: events.length,
    headHash,
    sourceHeadHash: manifest.headHash,
    rehashed,
    duplicate: result.duplicate,
    checkpoints: { imported: keep.length, unverified: bundle.signaturesUnverified },
  };
};

export type ExportSessionDeps = Readonly<{
  store: Pick<EventStore, 'readStream'>;
  /** Absent: the bundle carries no checkpoints. */
  checkpoints?: CheckpointStore;
}>;

/**
 * `GET /v1/sessions/{id}/export` and `agentledger export`: the tenant's session as a bundle
 * (manifest line, then its events), or undefined when the tenant has no such session.
 */
export const exportSessionBundle = async (
  deps: ExportSessionDeps,
  tenantId: string,
  sessionId: string,
  streamId: string,
): Promise<string | undefined> => {
  const [events, checkpoints] = await Promise.all([
    // As stored: the hashes cover the stored schema version, not what upcasters make of it.
    deps.store.readStream(streamId, { tenantId, raw: true }),
    deps.checkpoints === undefined ? Promise.resolve([]) : deps.checkpoints.list(tenantId, streamId),
  ]);
  return events.length === 0 ? undefined : writeBundle(sessionId, events, checkpoints);
};
