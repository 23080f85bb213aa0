import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical/canonical.ts';
import { computeEventHash, GENESIS_HASH, HASHED_FIELDS, hashPrefix, sha256Hex } from './hash.ts';
import { isUuid, uuidv7 } from './ids.ts';
import { createUpcast } from './upcasting.ts';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: undefined }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"f":1}]},"b":1}',
    );
  });

  it('is stable under key order and a JSON round trip', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(canonicalJson(value));
      }),
    );
  });
});

describe('event hash', () => {
  const event = {
    eventId: '01890a5d-ac96-774b-bcce-b302099a8057',
    streamId: 'session-1',
    tenantId: 't',
    type: 'UserMessageReceived',
    schemaVersion: 1,
    data: { content: 'hi' },
    metadata: { correlationId: 'c' },
    recordedAt: '2026-01-01T00:00:00.000Z',
  };

  it('equals the prefix form the database computes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 1e9 }), (data, version) => {
        const full = { ...event, data: JSON.parse(JSON.stringify(data)) as unknown, version };
        expect(sha256Hex(`${GENESIS_HASH}${hashPrefix(full)}${version}}`)).toBe(
          computeEventHash(GENESIS_HASH, full),
        );
      }),
    );
  });

  it('is sha256hex(prevHash + canonical JSON of the documented fields), written out by hand', () => {
    const documented =
      '{"data":{"content":"hi"},"eventId":"01890a5d-ac96-774b-bcce-b302099a8057",' +
      '"metadata":{"correlationId":"c"},"recordedAt":"2026-01-01T00:00:00.000Z","schemaVersion":1,' +
      '"streamId":"session-1","tenantId":"t","type":"UserMessageReceived","version":1}';
    const prevHash = 'a'.repeat(64);
    expect(computeEventHash(prevHash, { ...event, version: 1 })).toBe(
      createHash('sha256')
        .update(prevHash + documented, 'utf8')
        .digest('hex'),
    );
  });

  it('covers every documented field and nothing else', () => {
    const base = { ...event, version: 1 };
    const hash = computeEventHash(GENESIS_HASH, base);
    // One change per field of the documented formula (hash.ts, libs/events/EVENT-STORE.md).
    const changed: Record<(typeof HASHED_FIELDS)[number], Partial<typeof base>> = {
      data: { data: { content: 'ho' } },
      eventId: { eventId: '01890a5d-ac96-774b-bcce-b302099a8058' },
      metadata: { metadata: { correlationId: 'd' } },
      recordedAt: { recordedAt: '2026-01-01T00:00:00.001Z' },
      schemaVersion: { schemaVersion: 2 },
      streamId: { streamId: 'session-2' },
      tenantId: { tenantId: 'u' },
      type: { type: 'TurnStarted' },
      version: { version: 2 },
    };
    expect([...HASHED_FIELDS].sort()).toEqual(Object.keys(changed).sort());
    const hashes = Object.values(changed).map((change) =>
      computeEventHash(GENESIS_HASH, { ...base, ...change }),
    );
    expect(new Set([hash, ...hashes]).size).toBe(hashes.length + 1);
    expect(computeEventHash('1'.repeat(64), base)).not.toBe(hash);
    // Fields outside the formula do not move it.
    const stored = { ...base, globalPosition: 7, prevHash: GENESIS_HASH, hash: 'f'.repeat(64) };
    expect(computeEventHash(GENESIS_HASH, stored)).toBe(hash);
  });
});

describe('uuidv7', () => {
  it('is a version 7 UUID that sorts by time', () => {
    const first = uuidv7(1_700_000_000_000);
    const second = uuidv7(1_700_000_000_001);
    expect(isUuid(first)).toBe(true);
    expect(first[14]).toBe('7');
    expect(first < second).toBe(true);
  });
});

describe('upcasting', () => {
  it('chains upcasters across schema versions', () => {
    const upcast = createUpcast([
      { type: 'T', fromSchemaVersion: 1, upcast: (data: { a: number }) => ({ b: data.a }) },
      { type: 'T', fromSchemaVersion: 2, upcast: (data: { b: number }) => ({ c: data.b + 1 }) },
    ]);
    const stored = {
      eventId: uuidv7(),
      streamId: 's',
      tenantId: 't',
      version: 1,
      globalPosition: 1,
      type: 'T',
      schemaVersion: 1,
      data: { a: 1 },
      metadata: {},
      recordedAt: new Date().toISOString(),
      prevHash: GENESIS_HASH,
      hash: GENESIS_HASH,
    };
    expect(upcast(stored)).toMatchObject({ schemaVersion: 3, data: { c: 2 } });
    expect(upcast({ ...stored, type: 'U' })).toMatchObject({ schemaVersion: 1, data: { a: 1 } });
  });

  it('refuses two upcasters for the same type and schema version, naming them', () => {
    const upcaster = { type: 'T', fromSchemaVersion: 1, upcast: () => ({}) };
    expect(() => createUpcast([upcaster, upcaster])).toThrow('two upcasters registered for T@1');
  });
});
