import { createHash } from 'node:crypto';
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

/**
 * Canonical JSON: `JSON.stringify` semantics (a `toJSON` is honoured, `undefined` members are
 * dropped, `undefined` in arrays becomes `null`), no whitespace, object keys sorted by UTF-16 code
 * units (JavaScript's default sort) at every depth.
 */
export const canonicalJson = (value: unknown): string => {
  const text = JSON.stringify(value, sortKeys);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
};

const sortKeys = (_key: string, value: unknown): unknown => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key];
  return sorted;
};

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

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
 */
export const hashPrefix = (event: Omit<HashedEvent, 'version'>): string => {
  const json = canonicalJson({ ...hashedFieldsOf({ ...event, version: 0 }), version: undefined });
  return `${json.slice(0, -1)},"version":`;
};
