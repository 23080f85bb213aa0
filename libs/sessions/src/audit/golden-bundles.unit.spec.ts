import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { foldSession, type SessionEvent } from '@agentledger/agents';
import { createInMemoryEventStore, type EventStore, type Upcaster } from '@agentledger/events';
import { createPgliteEventStore } from '@agentledger/events/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { createSessionEngine } from '../engine/session-engine.ts';
import { createInMemorySessionIndex } from '../memory/memory-session-index.ts';
import { createSqlCheckpointStore } from '../sql/sql-checkpoint-store.ts';
import { createSqlSessionIndex } from '../sql/sql-session-index.ts';
import { auditSession } from './audit-session.ts';
import { readBundle } from './bundle.ts';
import { createCheckpointSigner, type CheckpointStore } from './checkpoints.ts';
import { createInMemoryCheckpointStore } from './memory-checkpoint-store.ts';
import { exportSessionBundle, importSessionBundle } from './session-transfer.ts';

/**
 * Stored streams recorded at schema version 1 (bundles: envelopes with hashes and two signed
 * checkpoints), added and never edited. Whatever the event schemas become, each must still verify
 * (chain, head, signatures), replay (every recorded decision is today's) and fold to the state its
 * recorded events fold to, through the upcasters of the day.
 */
const file = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`./__golden__/${name}`, import.meta.url)), 'utf8');
const recordedEvents = (name: string): SessionEvent[] =>
  JSON.parse(
    readFileSync(
      fileURLToPath(new URL(`../../../agents/src/core/session/__golden__/${name}.json`, import.meta.url)),
      'utf8',
    ),
  ) as SessionEvent[];

const verifier = createCheckpointSigner({ keyId: 'golden-2026', publicKeyPem: file('golden-2026.pub.pem') });

/**
 * The evolution these streams must survive: `SessionStarted` gains schema version 2, in which
 * `metadata` (the client's labels, added after the first sessions were recorded) is always present.
 */
const upcasters: Upcaster[] = [
  {
    type: 'SessionStarted',
    fromSchemaVersion: 1,
    upcast: (data: Record<string, unknown>) => ({ metadata: {}, ...data }),
  },
];

type Installation = Readonly<{
  store: EventStore;
  engine: ReturnType<typeof createSessionEngine>;
  checkpoints: CheckpointStore;
}>;

const opened: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of opened) await close();
});

const installations: Record<string, () => Promise<Installation>> = {
  'in-memory': async () => {
    const store = createInMemoryEventStore({ upcasters });
    const index = createInMemorySessionIndex();
    return {
      store,
      engine: createSessionEngine({ store, index, partitions: 1 }),
      checkpoints: createInMemoryCheckpointStore(),
    };
  },
  pglite: async () => {
    const store = await createPgliteEventStore({ upcasters });
    opened.push(() => store.close());
    return {
      store,
      engine: createSessionEngine({ store, index: createSqlSessionIndex(store.db), partitions: 1 }),
      checkpoints: createSqlCheckpointStore(store.db),
    };
  },
};

const GOLDEN = ['round-robin-calculator', 'swarm-handoff-approval', 'magentic-one-replan'] as const;

describe.each(Object.entries(installations))('golden v1 bundles on %s', { timeout: 60_000 }, (_, open) => {
  // One installation for the three bundles (different streams): PGlite starts in seconds.
  let installation: Promise<Installation> | undefined;
  it.each(GOLDEN)(
    '%s verifies, replays and folds to its recorded state after SessionStarted v2',
    async (name) => {
      const text = file(`${name}.v1.ndjson`);
      const bundle = readBundle(text, verifier);
      expect(bundle.signaturesVerified).toBe(2);
      const { manifest } = bundle;
      installation ??= open();
      const at = await installation;

      const imported = await importSessionBundle(
        { engine: at.engine, checkpoints: at.checkpoints, signer: verifier, checkSpec: () => [] },
        text,
        manifest.tenantId,
      );
      expect(imported).toMatchObject({
        rehashed: false,
        headHash: manifest.headHash,
        checkpoints: { imported: 2 },
      });

      const read = await at.store.readStream(manifest.streamId, { tenantId: manifest.tenantId });
      expect(read[0]).toMatchObject({ schemaVersion: 2, data: { metadata: {} } });
      expect(read.slice(1).every((e) => e.schemaVersion === 1)).toBe(true);

      const audit = await auditSession(
        { store: at.store, checkpoints: at.checkpoints, signer: verifier },
        manifest.tenantId,
        manifest.streamId,
      );
      expect(audit).toMatchObject({
        hashChainValid: true,
        replayMatches: true,
        firstDivergentVersion: null,
        headHash: manifest.headHash,
        checkpoints: { valid: true, signed: 2, lastVerified: manifest.eventCount },
      });
      expect(await at.engine.load(manifest.tenantId, manifest.sessionId)).toEqual(
        foldSession(recordedEvents(name)),
      );
      // Exports carry the stored version 1 rows: the same bytes as the checked-in file.
      expect(
        await exportSessionBundle(
          { store: at.store, checkpoints: at.checkpoints },
          manifest.tenantId,
          manifest.sessionId,
          manifest.streamId,
        ),
      ).toBe(text);
    },
  );
});
