import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../envelope.ts';
import { InvalidEvent, StreamTenantMismatch, StreamVersionConflict } from '../errors.ts';
import { computeEventHash, GENESIS_HASH } from '../hash.ts';
import { uuidv7 } from '../ids.ts';
import type { EventStore } from '../store.ts';

/** A stream as another installation exported it: chained with the documented hash. */
export const exportedStream = (
  streamId: string,
  tenantId: string,
  bodies: readonly Readonly<{ type: string; data: unknown }>[],
): EventEnvelope[] => {
  let prevHash = GENESIS_HASH;
  return bodies.map(({ type, data }, index) => {
    const body = {
      eventId: uuidv7(),
      streamId,
      tenantId,
      version: index + 1,
      type,
      schemaVersion: 1,
      data,
      metadata: { actor: 'exporter' },
      recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, index, 123)).toISOString(),
    };
    const hash = computeEventHash(prevHash, body);
    const envelope = { ...body, globalPosition: 1000 + index, prevHash, hash };
    prevHash = hash;
    return envelope;
  });
};

const withoutPositions = (events: readonly EventEnvelope[]) =>
  events.map(({ globalPosition: _position, ...rest }) => rest);

/** `importStream` cases of the EventStore contract (every adapter). */
export const eventImportCases = (storeOf: () => EventStore): void => {
  const tenantId = 'tenant-import';
  const streamOf = (label: string): string => `session-${tenantId}/${label}-${uuidv7()}`;
  const bodies = [
    { type: 'A', data: { b: 2, a: [1, { z: null, y: 'ü' }] } },
    { type: 'B', data: {} },
    { type: 'C', data: 'text' },
  ];

  describe('import', () => {
    it('stores a stream with its ids, times and hashes; the chain verifies and appends continue it', async () => {
      const store = storeOf();
      const streamId = streamOf('same');
      const exported = exportedStream(streamId, tenantId, bodies);
      const seen: EventEnvelope[] = [];
      const result = await store.importStream(streamId, exported, {
        tenantId,
        inline: ({ events }) => {
          seen.push(...events);
        },
      });
      expect(result).toMatchObject({ versions: [1, 2, 3], nextExpectedVersion: 3, duplicate: false });
      const stored = await store.readStream(streamId, { tenantId });
      expect(withoutPositions(stored)).toEqual(withoutPositions(exported));
      expect(stored.map((e) => e.globalPosition)).toEqual(result.globalPositions);
      expect(seen.map((e) => e.globalPosition)).toEqual(result.globalPositions);
      expect(await store.verifyStream(streamId, { tenantId })).toMatchObject({
        valid: true,
        eventCount: 3,
        headHash: exported[2]!.hash,
      });
      await store.append(streamId, [{ type: 'D', data: {} }], { tenantId, expectedVersion: 3 });
      const after = await store.readStream(streamId, { tenantId });
      expect(after[3]?.prevHash).toBe(exported[2]!.hash);
      expect((await store.verifyStream(streamId, { tenantId })).valid).toBe(true);
    });

    it('answers the same stream again as a duplicate and never overwrites another', async () => {
      const store = storeOf();
      const streamId = streamOf('twice');
      const exported = exportedStream(streamId, tenantId, bodies);
      const first = await store.importStream(streamId, exported, { tenantId });
      const again = await store.importStream(streamId, exported, { tenantId });
      expect(again).toMatchObject({ duplicate: true, globalPositions: first.globalPositions });
      const other = exportedStream(streamId, tenantId, bodies.slice(0, 2));
      await expect(store.importStream(streamId, other, { tenantId })).rejects.toBeInstanceOf(
        StreamVersionConflict,
      );
      const live = streamOf('live');
      await store.append(live, [{ type: 'A', data: {} }], { tenantId, expectedVersion: 'no_stream' });
      await expect(
        store.importStream(live, exportedStream(live, tenantId, bodies), { tenantId }),
      ).rejects.toBeInstanceOf(StreamVersionConflict);
      expect(withoutPositions(await store.readStream(streamId, { tenantId }))).toEqual(
        withoutPositions(exported),
      );
      expect(await store.readStream(live, { tenantId })).toHaveLength(1);
    });

    it('refuses a stream another tenant owns and events that name another tenant', async () => {
      const store = storeOf();
      const streamId = streamOf('owned');
      await store.append(streamId, [{ type: 'A', data: {} }], {
        tenantId: 'tenant-owner',
        expectedVersion: 0,
      });
      await expect(
        store.importStream(streamId, exportedStream(streamId, tenantId, bodies), { tenantId }),
      ).rejects.toBeInstanceOf(StreamTenantMismatch);
      const elsewhere = streamOf('named');
      await expect(
        store.importStream(elsewhere, exportedStream(elsewhere, 'tenant-other', bodies), { tenantId }),
      ).rejects.toThrow(/version 1: tenantId/);
      expect(await store.readStream(elsewhere, { tenantId })).toEqual([]);
    });

    it('refuses an edited event, naming its version, and stores nothing', async () => {
      const store = storeOf();
      const streamId = streamOf('tampered');
      const exported = exportedStream(streamId, tenantId, bodies);
      const tampered = exported.map((e) => (e.version === 2 ? { ...e, data: { edited: true } } : e));
      const error = await store.importStream(streamId, tampered, { tenantId }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidEvent);
      expect((error as Error).message).toMatch(/^version 2: the hash chain does not verify/);
      const truncatedHead = exported.slice(1);
      await expect(store.importStream(streamId, truncatedHead, { tenantId })).rejects.toThrow(/version 1/);
      expect(await store.readStream(streamId, { tenantId })).toEqual([]);
      expect((await store.readAll({ tenantId })).filter((e) => e.streamId === streamId)).toEqual([]);
    });

    it('writes nothing when the inline projection throws', async () => {
      const store = storeOf();
      const streamId = streamOf('inline-fail');
      const exported = exportedStream(streamId, tenantId, bodies);
      const thrown = new Error('projection refused');
      await expect(
        store.importStream(streamId, exported, {
          tenantId,
          inline: () => {
            throw thrown;
          },
        }),
      ).rejects.toBe(thrown);
      expect(await store.readStream(streamId, { tenantId })).toEqual([]);
      expect((await store.importStream(streamId, exported, { tenantId })).duplicate).toBe(false);
    });
  });
};
