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
  const text = serialize(value, false);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
};

const serialize = (value: unknown, inArray: boolean): string | undefined => {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
        return serialize((value as { toJSON: () => unknown }).toJSON(), inArray);
      if (value instanceof Number || value instanceof String || value instanceof Boolean)
        return serialize(value.valueOf(), inArray);
      if (Array.isArray(value)) {
        let out = '[';
        for (let index = 0; index < value.length; index += 1)
          out += `${index === 0 ? '' : ','}${serialize(value[index], true) ?? 'null'}`;
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      let out = '';
      for (const key of Object.keys(record).sort()) {
        const member = serialize(record[key], false);
        if (member !== undefined) out += `${out === '' ? '' : ','}${JSON.stringify(key)}:${member}`;
      }
      return `{${out}}`;
    }
    case 'bigint':
      throw new TypeError('a BigInt has no JSON representation');
    default:
      return inArray ? 'null' : undefined;
  }
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
