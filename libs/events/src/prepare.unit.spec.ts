import { describe, expect, it } from 'vitest';
import type { EventEnvelope, NewEvent } from './envelope.ts';
import { InvalidEvent } from './errors.ts';
import { GENESIS_HASH } from './hash.ts';
import { checkImport, envelopeOf, expectedAsNumber, prepareEvents, verifyChain } from './prepare.ts';
import type { AppendOptionsBase } from './store.ts';

const STREAM = 'session-1';
const TENANT = 't';
const NOW = new Date('2026-01-01T00:00:00.000Z');
const EVENT_ID = '01890a5d-ac96-774b-bcce-b302099a8057';
const OPTIONS: AppendOptionsBase = { tenantId: TENANT, expectedVersion: 'any' };

const prepareOne = (event: NewEvent, options: AppendOptionsBase = OPTIONS) =>
  prepareEvents(STREAM, [event], options, NOW)[0]!;

/** A stream of `count` valid events, chained as the in-memory store chains them. */
const chain = (count: number): EventEnvelope[] => {
  const prepared = prepareEvents(
    STREAM,
    Array.from({ length: count }, (_, index) => ({ type: 'Noted', data: { n: index + 1 } })),
    OPTIONS,
    NOW,
  );
  const envelopes: EventEnvelope[] = [];
  for (const [index, event] of prepared.entries())
    envelopes.push(
      envelopeOf(STREAM, TENANT, event, index + 1, index + 1, envelopes.at(-1)?.hash ?? GENESIS_HASH),
    );
  return envelopes;
};

/** The chain with one event changed (not re-hashed). */
const withChange = (
  events: EventEnvelope[],
  index: number,
  change: Record<string, unknown>,
): EventEnvelope[] => events.with(index, { ...events[index]!, ...change } as EventEnvelope);

describe('prepareEvents', () => {
  it('assigns the time, the default schema version and the lower-cased id, and normalises data as read back', () => {
    const event = prepareOne({
      type: 'Noted',
      eventId: EVENT_ID.toUpperCase(),
      data: { b: [1], a: undefined },
    });
    expect(event).toMatchObject({
      eventId: EVENT_ID,
      type: 'Noted',
      schemaVersion: 1,
      recordedAt: '2026-01-01T00:00:00.000Z',
      dataJson: '{"b":[1]}',
      metadataJson: '{}',
    });
  });

  it.each([
    ['an empty type', { type: '', data: null }, 'event 0: type must be a non-empty string'],
    [
      'a type that is not a string',
      { type: 42 as unknown as string, data: null },
      'event 0: type must be a non-empty string',
    ],
    [
      'an eventId that is not a UUID',
      { type: 'Noted', eventId: 'nope', data: null },
      'event 0: eventId nope is not a UUID',
    ],
    [
      'a schemaVersion that is not an integer',
      { type: 'Noted', schemaVersion: 1.5, data: null },
      'event 0: schemaVersion must be a positive integer',
    ],
    [
      'a schemaVersion of 0',
      { type: 'Noted', schemaVersion: 0, data: null },
      'event 0: schemaVersion must be a positive integer',
    ],
    [
      'data that is not JSON-serialisable',
      { type: 'Noted', data: { n: 10n } },
      'event 0 data is not JSON-serialisable',
    ],
    [
      'data holding U+0000',
      { type: 'Noted', data: { text: 'a\u0000b' } },
      'event 0 data contains the character U+0000',
    ],
    [
      'metadata holding U+0000',
      { type: 'Noted', data: null, metadata: { actor: 'a\u0000' } },
      'event 0 metadata contains the character U+0000',
    ],
  ])('refuses %s, naming the event', (_, event, message) => {
    expect(() => prepareEvents(STREAM, [event], OPTIONS, NOW)).toThrow(new InvalidEvent(message));
  });

  it('names the index of the event it refuses', () => {
    expect(() =>
      prepareEvents(
        STREAM,
        [
          { type: 'Noted', data: null },
          { type: '', data: null },
        ],
        OPTIONS,
        NOW,
      ),
    ).toThrow(new InvalidEvent('event 1: type must be a non-empty string'));
  });

  it('keeps the serialisation error as the cause', () => {
    expect(() => prepareOne({ type: 'Noted', data: { n: Number.NaN } })).toThrow(
      expect.objectContaining({ cause: new TypeError('NaN has no canonical JSON representation') }),
    );
  });

  it.each([
    ['at the start of a string', '\u0000abc'],
    ['after an escaped backslash', '\\\u0000'],
    ['after two escaped backslashes', '\\\\\u0000'],
  ])('refuses a real U+0000 %s', (_, text) => {
    expect(() => prepareOne({ type: 'Noted', data: text })).toThrow(
      new InvalidEvent('event 0 data contains the character U+0000'),
    );
  });

  it.each([
    ['the text \\u0000 (a backslash, then u0000)', '\\u0000'],
    ['the text \\\\u0000 (two backslashes, then u0000)', '\\\\u0000'],
  ])('accepts %s, which is no NUL', (_, text) => {
    expect(prepareOne({ type: 'Noted', data: { text } }).dataJson).toBe(JSON.stringify({ text }));
  });

  it('merges the idempotency key into metadata when the event has none', () => {
    const event = prepareOne(
      { type: 'Noted', data: null, metadata: { actor: 'a' } },
      { ...OPTIONS, idempotencyKey: 'k', metadata: { correlationId: 'c' } },
    );
    expect(event.metadataJson).toBe('{"actor":"a","correlationId":"c","idempotencyKey":"k"}');
  });

  it('keeps the event’s own idempotency key over the append’s', () => {
    const event = prepareOne(
      { type: 'Noted', data: null, metadata: { idempotencyKey: 'own' } },
      { ...OPTIONS, idempotencyKey: 'k' },
    );
    expect(event.metadataJson).toBe('{"idempotencyKey":"own"}');
  });

  it('adds no idempotency key when the append has none', () => {
    expect(prepareOne({ type: 'Noted', data: null, metadata: { actor: 'a' } }).metadataJson).toBe(
      '{"actor":"a"}',
    );
  });
});

describe('expectedAsNumber', () => {
  it.each([
    ['any', null],
    ['no_stream', 0],
    [0, 0],
    [3, 3],
  ] as const)('reads %s as %s', (expected, number) => {
    expect(expectedAsNumber(expected)).toBe(number);
  });

  it.each([-1, 1.5])('refuses %s', (expected) => {
    expect(() => expectedAsNumber(expected)).toThrow(
      new InvalidEvent(`expectedVersion must be a non-negative integer, 'no_stream' or 'any'`),
    );
  });
});

describe('verifyChain', () => {
  it('accepts a chain built by envelopeOf, with its head', () => {
    const events = chain(3);
    expect(verifyChain(STREAM, events, { version: 3, hash: events[2]!.hash })).toEqual({
      streamId: STREAM,
      valid: true,
      eventCount: 3,
      headHash: events[2]!.hash,
    });
  });

  it('accepts an empty stream, its head hash the genesis hash', () => {
    expect(verifyChain(STREAM, [])).toEqual({
      streamId: STREAM,
      valid: true,
      eventCount: 0,
      headHash: GENESIS_HASH,
    });
  });

  it.each([
    ['a version gap', 1, { version: 3 }, 2, 'version_gap'],
    ['a prevHash that is not the previous hash', 1, { prevHash: 'f'.repeat(64) }, 2, 'prev_hash_mismatch'],
    ['an edited event', 1, { data: { n: 99 } }, 2, 'hash_mismatch'],
  ] as const)(
    'reports %s at its version, with the last event’s hash as the head hash',
    (_, index, change, version, reason) => {
      const events = chain(3);
      expect(verifyChain(STREAM, withChange(events, index, change))).toEqual({
        streamId: STREAM,
        valid: false,
        eventCount: 3,
        headHash: events[2]!.hash,
        firstBrokenVersion: version,
        reason,
      });
    },
  );

  const lastHash = (events: EventEnvelope[]) => events[2]!.hash;
  const otherHash = () => 'f'.repeat(64);

  it.each([
    ['only its version is behind', 2, lastHash, 3],
    ['only its version is ahead', 5, lastHash, 4],
    ['only its hash differs', 3, otherHash, 4],
  ])('reports a head that disagrees with the events when %s', (_, version, hashOf, broken) => {
    const events = chain(3);
    expect(verifyChain(STREAM, events, { version, hash: hashOf(events) })).toEqual({
      streamId: STREAM,
      valid: false,
      eventCount: 3,
      headHash: events[2]!.hash,
      firstBrokenVersion: broken,
      reason: 'head_mismatch',
    });
  });
});

describe('checkImport', () => {
  it('returns the verification of a valid stream', () => {
    const events = chain(2);
    expect(checkImport(STREAM, TENANT, events)).toEqual({
      streamId: STREAM,
      valid: true,
      eventCount: 2,
      headHash: events[1]!.hash,
    });
  });

  it('refuses an empty stream', () => {
    expect(() => checkImport(STREAM, TENANT, [])).toThrow(
      new InvalidEvent('stream session-1: nothing to import'),
    );
  });

  it.each([
    ['another stream', { streamId: 'session-2' }, 'version 2: streamId is not session-1'],
    ['another tenant', { tenantId: 'u' }, 'version 2: tenantId is not t'],
    ['an eventId that is not a UUID', { eventId: 'nope' }, 'version 2: eventId is not a UUID'],
    [
      'an eventId that is not a string, though it reads as a UUID',
      { eventId: [EVENT_ID] },
      'version 2: eventId is not a UUID',
    ],
    [
      'a recordedAt that is no time',
      { recordedAt: 'soon' },
      'version 2: recordedAt is not an ISO-8601 UTC time with milliseconds',
    ],
    [
      'a recordedAt without milliseconds',
      { recordedAt: '2026-01-01T00:00:00Z' },
      'version 2: recordedAt is not an ISO-8601 UTC time with milliseconds',
    ],
    [
      'a recordedAt that is not a string',
      { recordedAt: Symbol('2026-01-01T00:00:00.000Z') },
      'version 2: recordedAt is not an ISO-8601 UTC time with milliseconds',
    ],
    ['data that is not JSON-serialisable', { data: { n: 10n } }, 'version 2 data is not JSON-serialisable'],
    ['data holding U+0000', { data: '\u0000' }, 'version 2 data contains the character U+0000'],
    [
      'metadata that is not JSON-serialisable',
      { metadata: { actor: Number.POSITIVE_INFINITY } },
      'version 2 metadata is not JSON-serialisable',
    ],
    [
      'metadata holding U+0000',
      { metadata: { actor: '\u0000' } },
      'version 2 metadata contains the character U+0000',
    ],
    ['a broken chain', { data: { n: 99 } }, 'version 2: the hash chain does not verify (hash_mismatch)'],
  ])('refuses %s, naming the version', (_, change, message) => {
    expect(() => checkImport(STREAM, TENANT, withChange(chain(3), 1, change))).toThrow(
      new InvalidEvent(message),
    );
  });
});
