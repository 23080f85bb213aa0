import { canonicalJson, sha256Hex } from './canonical/canonical.ts';
import type { EventEnvelope } from './envelope.ts';

/** `prevHash` of a stream's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The envelope fields covered by an event's hash. `globalPosition` (assigned by the database
 * sequence), `prevHash` (prepended instead) and `hash` itself are not covered.
 */
export const HASHED_FIELDS = [
  'data',
  'eventId',
  'metadata',
  'recordedAt',
  'schemaVersion',
  'streamId',
  'tenantId',
  'type',
  'version',
] as const;

export type HashedEvent = Pick<EventEnvelope, (typeof HASHED_FIELDS)[number]>;

export { sha256Hex };

/**
 * `hash = sha256hex(prevHash + canonicalJson({data, eventId, metadata, recordedAt, schemaVersion,
 * streamId, tenantId, type, version}))`, UTF-8, lower-case hex; the first event's `prevHash` is
 * {@link GENESIS_HASH}. `recordedAt` is the ISO-8601 string of the envelope (millisecond precision,
 * `Z`). Auditors recompute it from an exported envelope with exactly this function.
 */
export const computeEventHash = (prevHash: string, event: HashedEvent): string =>
  sha256Hex(prevHash + canonicalJson(hashedFieldsOf(event)));

export const hashedFieldsOf = (event: HashedEvent): HashedEvent => ({
  data: event.data,
  eventId: event.eventId,
  metadata: event.metadata,
  recordedAt: event.recordedAt,
  schemaVersion: event.schemaVersion,
  streamId: event.streamId,
  tenantId: event.tenantId,
  type: event.type,
  version: event.version,
});

/**
 * The canonical JSON of an event without its version, cut open where the version goes: `version`
 * sorts last, so `canonicalJson(event) === hashPrefix + String(version) + '}'`. The database
 * computes the chain from this prefix once it has assigned versions (one round trip per append).
 * `dataJson` and `metadataJson` are the canonical JSON of `data` and `metadata`.
 */
export const hashPrefixOf = (
  event: Omit<HashedEvent, 'version' | 'data' | 'metadata'>,
  dataJson: string,
  metadataJson: string,
): string =>
  `{"data":${dataJson},"eventId":${JSON.stringify(event.eventId)},"metadata":${metadataJson},` +
  `"recordedAt":${JSON.stringify(event.recordedAt)},"schemaVersion":${event.schemaVersion},` +
  `"streamId":${JSON.stringify(event.streamId)},"tenantId":${JSON.stringify(event.tenantId)},` +
  `"type":${JSON.stringify(event.type)},"version":`;

/** {@link hashPrefixOf} for an event whose data and metadata are not serialised yet. */
export const hashPrefix = (event: Omit<HashedEvent, 'version'>): string =>
  hashPrefixOf(event, canonicalJson(event.data), canonicalJson(event.metadata));
