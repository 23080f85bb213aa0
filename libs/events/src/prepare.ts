import type { EventEnvelope, EventMetadata, NewEvent } from './envelope.ts';
import { InvalidEvent } from './errors.ts';
import { canonicalJson } from './canonical/canonical.ts';
import { GENESIS_HASH, hashPrefix, hashPrefixOf, sha256Hex } from './hash.ts';
import { isUuid, uuidv7 } from './ids.ts';
import type { AppendOptionsBase, ExpectedVersion, VerifyResult } from './store.ts';

/** An event ready to store: JSON-normalised, with its id, time and the hash prefix of its body. */
export type PreparedEvent = Readonly<{
  eventId: string;
  type: string;
  schemaVersion: number;
  recordedAt: string;
  /** Canonical JSON of the data and the metadata, exactly as hashed and stored. */
  dataJson: string;
  metadataJson: string;
  /** `canonicalJson(event)` up to the version; see `hashPrefixOf`. */
  body: string;
}>;

/** `\u0000` preceded by an even number of backslashes: a NUL escape, not the text `\u0000`. */
const ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

const serialise = (value: unknown, what: string): string => {
  let json: string;
  try {
    json = canonicalJson(value ?? null);
  } catch (error) {
    throw new InvalidEvent(`${what} is not JSON-serialisable`, error);
  }
  // Postgres jsonb cannot hold U+0000; every adapter refuses it alike.
  if (json.includes('\\u0000') && ESCAPED_NUL.test(json))
    throw new InvalidEvent(`${what} contains the character U+0000`);
  return json;
};

/** Assigns ids and the time, merges metadata and normalises data as it will be read back. */
export const prepareEvents = (
  streamId: string,
  events: readonly NewEvent[],
  options: AppendOptionsBase,
  now: Date = new Date(),
): PreparedEvent[] => {
  const recordedAt = now.toISOString();
  return events.map((event, index) => {
    if (typeof event.type !== 'string' || event.type.length === 0)
      throw new InvalidEvent(`event ${index}: type must be a non-empty string`);
    const eventId = event.eventId ?? uuidv7(now.getTime());
    if (!isUuid(eventId)) throw new InvalidEvent(`event ${index}: eventId ${eventId} is not a UUID`);
    const schemaVersion = event.schemaVersion ?? 1;
    if (!Number.isInteger(schemaVersion) || schemaVersion < 1)
      throw new InvalidEvent(`event ${index}: schemaVersion must be a positive integer`);
    const merged = { ...options.metadata, ...event.metadata };
    if (options.idempotencyKey !== undefined && merged.idempotencyKey === undefined)
      merged.idempotencyKey = options.idempotencyKey;
    const metadataJson = serialise(merged, `event ${index} metadata`);
    const dataJson = serialise(event.data, `event ${index} data`);
    const prepared = { eventId: eventId.toLowerCase(), type: event.type, schemaVersion, recordedAt };
    const body = hashPrefixOf({ ...prepared, streamId, tenantId: options.tenantId }, dataJson, metadataJson);
    return { ...prepared, dataJson, metadataJson, body };
  });
};

/** Expected version as the SQL function takes it: null = any, 0 = no stream, n = at version n. */
export const expectedAsNumber = (expected: ExpectedVersion): number | null => {
  if (expected === 'any') return null;
  if (expected === 'no_stream') return 0;
  if (!Number.isInteger(expected) || expected < 0)
    throw new InvalidEvent(`expectedVersion must be a non-negative integer, 'no_stream' or 'any'`);
  return expected;
};

/** Recomputes a stream's chain; `headVersion` is what the stream head row says, if any. */
export const verifyChain = (
  streamId: string,
  events: readonly EventEnvelope[],
  head?: { version: number; hash: string },
): VerifyResult => {
  let prevHash = GENESIS_HASH;
  const broken = (version: number, reason: NonNullable<VerifyResult['reason']>): VerifyResult => ({
    streamId,
    valid: false,
    eventCount: events.length,
    headHash: events.at(-1)?.hash ?? GENESIS_HASH,
    firstBrokenVersion: version,
    reason,
  });
  for (const [index, event] of events.entries()) {
    const expectedVersion = index + 1;
    if (event.version !== expectedVersion) return broken(expectedVersion, 'version_gap');
    if (event.prevHash !== prevHash) return broken(event.version, 'prev_hash_mismatch');
    // computeEventHash, without building and sorting the envelope's hashed fields per event (hot in verify --all)
    if (sha256Hex(`${prevHash}${hashPrefix(event)}${event.version}}`) !== event.hash)
      return broken(event.version, 'hash_mismatch');
    prevHash = event.hash;
  }
  if (head !== undefined && (head.version !== events.length || head.hash !== prevHash))
    return broken(Math.min(head.version, events.length) + 1, 'head_mismatch');
  return { streamId, valid: true, eventCount: events.length, headHash: prevHash };
};

/** Builds the stored envelope of a prepared event (in-memory adapter; tests). */
export const envelopeOf = (
  streamId: string,
  tenantId: string,
  event: PreparedEvent,
  version: number,
  globalPosition: number,
  prevHash: string,
): EventEnvelope => {
  const hash = sha256Hex(`${prevHash}${event.body}${version}}`);
  return {
    eventId: event.eventId,
    streamId,
    tenantId,
    version,
    globalPosition,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: JSON.parse(event.dataJson) as unknown,
    metadata: JSON.parse(event.metadataJson) as EventMetadata,
    recordedAt: event.recordedAt,
    prevHash,
    hash,
  };
};

/**
 * Checks a stream to import before anything is written: every event names the stream and the
 * tenant, has a UUID, JSON the database can hold, and the chain verifies from the genesis hash.
 * Throws `InvalidEvent` naming the first version that does not.
 */
const isIsoMillis = (text: string): boolean => {
  const time = Date.parse(text);
  return !Number.isNaN(time) && new Date(time).toISOString() === text;
};

export const checkImport = (
  streamId: string,
  tenantId: string,
  events: readonly EventEnvelope[],
): VerifyResult => {
  if (events.length === 0) throw new InvalidEvent(`stream ${streamId}: nothing to import`);
  for (const event of events) {
    const at = `version ${event.version}`;
    if (event.streamId !== streamId) throw new InvalidEvent(`${at}: streamId is not ${streamId}`);
    if (event.tenantId !== tenantId) throw new InvalidEvent(`${at}: tenantId is not ${tenantId}`);
    if (typeof event.eventId !== 'string' || !isUuid(event.eventId))
      throw new InvalidEvent(`${at}: eventId is not a UUID`);
    // Stored with millisecond precision: any other spelling would not read back as hashed.
    if (typeof event.recordedAt !== 'string' || !isIsoMillis(event.recordedAt))
      throw new InvalidEvent(`${at}: recordedAt is not an ISO-8601 UTC time with milliseconds`);
    serialise(event.data, `${at} data`);
    serialise(event.metadata, `${at} metadata`);
  }
  const verified = verifyChain(streamId, events);
  if (!verified.valid)
    throw new InvalidEvent(
      `version ${verified.firstBrokenVersion}: the hash chain does not verify (${verified.reason})`,
    );
  return verified;
};
