import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  computeEventHash,
  GENESIS_HASH,
  sessionStreamId,
  StreamVersionConflict,
  type EventEnvelope,
} from '@agentledger/events';
import { createPostgresEventStore, type PostgresEventStore } from '@agentledger/events/postgres';
import { createTestDatabase, rejection, type TestDatabase } from '@agentledger/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSessionEngine } from '../engine/session-engine.ts';
import { createSqlCheckpointStore } from '../sql/sql-checkpoint-store.ts';
import { createSqlSessionIndex } from '../sql/sql-session-index.ts';
import { auditSession } from './audit-session.ts';
import { BundleRejected } from './bundle.ts';
import { createCheckpointSigner } from './checkpoints.ts';
import { exportSessionBundle, importSessionBundle } from './session-transfer.ts';

const golden = JSON.parse(
  readFileSync(
    fileURLToPath(
      new URL('../../../agents/src/core/session/__golden__/swarm-handoff-approval.json', import.meta.url),
    ),
    'utf8',
  ),
) as { type: string; data: Record<string, unknown> }[];
const tenantId = String(golden[0]!.data.tenantId);
const sessionId = String(golden[0]!.data.sessionId);
const streamId = sessionStreamId(tenantId, sessionId);
const signer = createCheckpointSigner({
  keyId: 'k1',
  privateKeyPem: generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
});

type Installation = Readonly<{ database: TestDatabase; store: PostgresEventStore }>;
const open = async (label: string): Promise<Installation> => {
  const database = await createTestDatabase(inject('databaseUrl'), label);
  return {
    database,
    store: await createPostgresEventStore({ connectionString: database.url, migrate: true }),
  };
};
const wiring = (
  { store }: Installation,
  checkSpec: (spec: unknown) => { path: string; message: string }[] = () => [],
) => {
  const index = createSqlSessionIndex(store.db);
  const engine = createSessionEngine({ store, index, partitions: 1 });
  const checkpoints = createSqlCheckpointStore(store.db);
  return {
    engine,
    index,
    checkpoints,
    importDeps: { engine, checkpoints, signer, checkSpec },
  };
};
const positionless = (events: readonly EventEnvelope[]) =>
  events.map(({ globalPosition: _p, ...rest }) => rest);

let source: Installation;
let target: Installation;
let bundle: string;

beforeAll(async () => {
  [source, target] = await Promise.all([open('bundle-source'), open('bundle-target')]);
  await source.store.append(streamId, golden, { tenantId, expectedVersion: 'no_stream' });
  const events = await source.store.readStream(streamId, { tenantId });
  const checkpoints = createSqlCheckpointStore(source.store.db);
  for (const version of [10, events.length]) {
    const e = events[version - 1]!;
    await checkpoints.save(signer.sign({ tenant: tenantId, streamId, version, hash: e.hash }, new Date()));
  }
  bundle = (await exportSessionBundle({ store: source.store, checkpoints }, tenantId, sessionId, streamId))!;
});

afterAll(async () => {
  for (const { store, database } of [source, target]) {
    await store?.close();
    await database?.drop();
  }
});

/** The bundle with line `index` (0 = manifest) rewritten. */
const editLine = (index: number, edit: (line: string) => string): string => {
  const lines = bundle.split('\n');
  const edited = edit(lines[index]!);
  expect(edited).not.toBe(lines[index]);
  lines[index] = edited;
  return lines.join('\n');
};

describe('session bundles on Postgres', () => {
  it('exports a manifest and one line per event; another tenant gets nothing', async () => {
    const [manifest, ...events] = bundle
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(manifest).toMatchObject({
      format: 'agentledger.session-bundle',
      tenantId,
      sessionId,
      streamId,
      eventCount: golden.length,
      keyId: 'k1',
      spec: golden[0]!.data.spec,
    });
    expect((manifest!.checkpoints as unknown[]).length).toBe(2);
    expect(events).toHaveLength(golden.length);
    expect(
      await exportSessionBundle({ store: source.store }, 'tenant-other', sessionId, streamId),
    ).toBeUndefined();
  });

  it('refuses an edited, truncated or re-chained bundle naming the version, storing nothing', async () => {
    const { importDeps, index } = wiring(target);
    const refused = async (text: string) => {
      const error = await rejection(importSessionBundle(importDeps, text, tenantId));
      expect(error).toBeInstanceOf(BundleRejected);
      return (error as BundleRejected).problems[0]!;
    };
    // one byte of version 5's data changed
    expect(
      await refused(editLine(5, (line) => line.replace('"agent":"triage"', '"agent":"triagf"'))),
    ).toMatchObject({
      version: 5,
      field: 'events[4]',
    });
    expect(await refused(bundle.split('\n').slice(0, -2).join('\n'))).toMatchObject({
      version: golden.length,
      message: expect.stringMatching(/truncated/),
    });
    // a rewrite with the chain and the head recomputed: only the signed checkpoint catches it
    const lines = bundle.trimEnd().split('\n');
    let prevHash = GENESIS_HASH;
    const rewritten = lines.slice(1).map((line, i) => {
      const e = JSON.parse(line) as EventEnvelope;
      const data = i === 1 ? { ...(e.data as object), content: 'rewritten' } : e.data;
      const hash = computeEventHash(prevHash, { ...e, data });
      const out = { ...e, data, prevHash, hash };
      prevHash = hash;
      return JSON.stringify(out);
    });
    const manifest = { ...(JSON.parse(lines[0]!) as object), headHash: prevHash };
    expect(await refused([JSON.stringify(manifest), ...rewritten].join('\n'))).toMatchObject({
      version: 10,
      field: 'manifest.checkpoints[0]',
    });
    expect(
      // one character of the signature changed (to another one: the key is new each run)
      await refused(
        editLine(0, (line) =>
          line.replace(/"signature":"(.)/, (_, c: string) => `"signature":"${c === 'A' ? 'B' : 'A'}`),
        ),
      ),
    ).toMatchObject({ version: 10, message: expect.stringMatching(/signature/) });
    expect(await target.store.readStream(streamId, { tenantId })).toEqual([]);
    expect(await index.get(tenantId, sessionId)).toBeUndefined();
  });

  it('refuses a spec this installation cannot run, naming the path', async () => {
    const { importDeps } = wiring(target, () => [{ path: '/agents/0/model', message: 'unknown endpoint' }]);
    const error = await rejection(importSessionBundle(importDeps, bundle, tenantId));
    expect((error as BundleRejected).problems).toEqual([
      { field: 'manifest.spec.agents.0.model', message: 'unknown endpoint' },
    ]);
    expect(await target.store.readStream(streamId, { tenantId })).toEqual([]);
  });

  it('imports into an empty database with the same hashes and checkpoints; exports the same bytes', async () => {
    const { importDeps, engine, index, checkpoints } = wiring(target);
    const imported = await importSessionBundle(importDeps, bundle, tenantId);
    expect(imported).toMatchObject({ rehashed: false, duplicate: false, eventCount: golden.length });
    const original = await source.store.readStream(streamId, { tenantId });
    const copy = await target.store.readStream(streamId, { tenantId });
    expect(positionless(copy)).toEqual(positionless(original));
    expect(imported.headHash).toBe(original.at(-1)!.hash);
    const audit = await auditSession({ store: target.store, checkpoints, signer }, tenantId, streamId);
    expect(audit).toMatchObject({ hashChainValid: true, replayMatches: true });
    expect(audit.checkpoints).toMatchObject({ valid: true, signed: 2, lastVerified: golden.length });
    expect(await engine.load(tenantId, sessionId)).toEqual(
      await wiring(source).engine.load(tenantId, sessionId),
    );
    expect(await index.get(tenantId, sessionId)).toMatchObject({ streamId, version: golden.length });
    expect(
      await exportSessionBundle({ store: target.store, checkpoints }, tenantId, sessionId, streamId),
    ).toBe(bundle);
    expect(await importSessionBundle(importDeps, bundle, tenantId)).toMatchObject({ duplicate: true });
  });

  it('maps the session into another tenant, never over an existing session', async () => {
    const { importDeps, engine } = wiring(source);
    const mapped = await importSessionBundle(importDeps, bundle, 'tenant-b');
    expect(mapped).toMatchObject({
      rehashed: true,
      tenantId: 'tenant-b',
      sourceHeadHash: JSON.parse(bundle.split('\n')[0]!).headHash,
    });
    const stream = sessionStreamId('tenant-b', sessionId);
    expect(await source.store.verifyStream(stream, { tenantId: 'tenant-b' })).toMatchObject({
      valid: true,
      eventCount: golden.length,
      headHash: mapped.headHash,
    });
    const state = await engine.load('tenant-b', sessionId);
    expect(state).toMatchObject({ tenantId: 'tenant-b', sessionId });
    expect(state?.messages).toEqual((await engine.load(tenantId, sessionId))?.messages);
    expect(await importSessionBundle(importDeps, bundle, 'tenant-b')).toMatchObject({ duplicate: true });
    await source.store.append(stream, [{ type: 'SessionClosed', data: { at: '2026-01-02T00:00:00.000Z' } }], {
      tenantId: 'tenant-b',
      expectedVersion: golden.length,
    });
    expect(await rejection(importSessionBundle(importDeps, bundle, 'tenant-b'))).toBeInstanceOf(
      StreamVersionConflict,
    );
    expect(await source.store.readStream(stream, { tenantId: 'tenant-b' })).toHaveLength(golden.length + 1);
  });
});
