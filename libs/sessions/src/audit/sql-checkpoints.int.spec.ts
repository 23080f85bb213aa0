import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { EventEnvelope } from '@agentledger/events';
import { createPostgresEventStore, type PostgresEventStore } from '@agentledger/events/postgres';
import { createTestDatabase, eventually, rewriteHistory, type TestDatabase } from '@agentledger/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSqlCheckpointStore } from '../sql/sql-checkpoint-store.ts';
import { auditSession } from './audit-session.ts';
import { checkpointStoreContract } from './checkpoint-store.contract.ts';
import { startCheckpointer, type Checkpointer } from './checkpointer.ts';
import { createCheckpointSigner } from './checkpoints.ts';

const goldenFile = new URL(
  '../../../agents/src/core/session/__golden__/round-robin-calculator.json',
  import.meta.url,
);
const golden = JSON.parse(readFileSync(fileURLToPath(goldenFile), 'utf8')) as {
  type: string;
  data: unknown;
}[];

let database: TestDatabase;
let store: PostgresEventStore;

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'checkpoints');
  store = await createPostgresEventStore({ connectionString: database.url, migrate: true });
});

afterAll(async () => {
  await store.close();
  await database.drop();
});

checkpointStoreContract('postgres', async () => createSqlCheckpointStore(store.db));

describe('signed checkpoints on Postgres', () => {
  const tenantId = 'tenant-a';
  const privateKeyPem = generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const signer = createCheckpointSigner({ keyId: 'k1', privateKeyPem });
  let checkpointer: Checkpointer;

  const recordGolden = async (streamId: string): Promise<readonly EventEnvelope[]> => {
    checkpointer ??= startCheckpointer({
      store,
      checkpoints: createSqlCheckpointStore(store.db),
      signer,
      intervalMs: 0,
      pollIntervalMs: 50,
    });
    await store.append(streamId, golden, { tenantId, expectedVersion: 'no_stream' });
    const checkpoints = createSqlCheckpointStore(store.db);
    await eventually(`the checkpoint of ${streamId}`, async () =>
      (await checkpoints.list(tenantId, streamId)).length > 0 ? true : undefined,
    );
    return store.readStream(streamId, { tenantId });
  };

  const audit = (streamId: string) =>
    auditSession({ store, checkpoints: createSqlCheckpointStore(store.db), signer }, tenantId, streamId);

  afterAll(async () => checkpointer?.stop());

  it('a recorded session verifies: chain, the turn-end checkpoint and decision replay', async () => {
    const events = await recordGolden('cp-clean');
    const report = await audit('cp-clean');
    expect(report).toMatchObject({
      eventCount: golden.length,
      hashChainValid: true,
      replayMatches: true,
      firstDivergentVersion: null,
      checkpoints: { enabled: true, signed: 1, lastVerified: golden.length, valid: true },
    });
    expect(report.headHash).toBe(events.at(-1)!.hash);
  });

  it('a row altered with SQL, the chain recomputed and the head moved, is still reported thanks to the checkpoint', async () => {
    const events = await recordGolden('cp-rewritten');
    const altered = events.map((e) =>
      e.type === 'UserMessageReceived'
        ? { ...e, data: { ...(e.data as object), content: 'What is 12 * 4?' } }
        : e,
    );
    await rewriteHistory(database.url, 'cp-rewritten', altered);
    const report = await audit('cp-rewritten');
    expect(report.hashChainValid).toBe(true); // the chain alone no longer tells
    expect(report.checkpoints).toMatchObject({
      valid: false,
      lastVerified: null,
      problems: [{ version: golden.length, reason: 'hash_mismatch' }],
    });
  });

  it('a deleted tail (head moved back) is reported: the signed version is beyond the head', async () => {
    const events = await recordGolden('cp-truncated');
    await rewriteHistory(database.url, 'cp-truncated', events.slice(0, 5));
    const report = await audit('cp-truncated');
    expect(report.hashChainValid).toBe(true);
    expect(report.eventCount).toBe(5);
    expect(report.checkpoints).toMatchObject({
      valid: false,
      problems: [{ version: golden.length, reason: 'beyond_head' }],
    });
  });

  it('without a key checkpoints are off', async () => {
    await recordGolden('cp-off');
    const report = await auditSession({ store }, tenantId, 'cp-off');
    expect(report.checkpoints).toEqual({
      enabled: false,
      signed: 0,
      lastVerified: null,
      valid: true,
      problems: [],
    });
  });
});
