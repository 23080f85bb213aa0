import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { nextAction, teamSpecSchema, type SessionCommand } from '@agentledger/agents';
import { createInMemoryEventStore } from '@agentledger/events';
import { createPostgresEventStore, MIGRATIONS_FOLDER, runMigrations } from '@agentledger/events/postgres';
import { createInMemorySessionIndex, createSessionEngine } from '@agentledger/sessions';
import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { parseGatewayConfig } from '../config/gateway.config.ts';
import { composeDistributedGateway, type ComposedGateway } from '../compose.ts';
import { createGatewayApp } from '../http/gateway-app.ts';
import { bearer, singleTeamSpec } from '../testing/test-gateway.ts';

type Journal = { entries: { idx: number; tag: string }[] };

/** A copy of the migrations folder holding migrations 0000–0009 only: the schema before 0010. */
const migrationsBefore0010 = async (): Promise<string> => {
  const folder = await mkdtemp(join(tmpdir(), 'agentledger-before-0010-'));
  await mkdir(join(folder, 'meta'));
  const journal = JSON.parse(
    await readFile(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
  ) as Journal;
  const entries = journal.entries.filter((entry) => entry.idx < 10);
  for (const { tag } of entries)
    await copyFile(join(MIGRATIONS_FOLDER, `${tag}.sql`), join(folder, `${tag}.sql`));
  await writeFile(join(folder, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
  return folder;
};

const meta = (n: number) => ({ commandId: `old-${n}`, correlationId: `old-${n}`, now: new Date() });

/** The events (type and data) of an idle session with one finished turn, decided by the decider. */
const finishedTurn = async (tenantId: string, sessionId: string) => {
  const scratch = createInMemoryEventStore();
  const repository = createSessionEngine({
    store: scratch,
    index: createInMemorySessionIndex(),
    partitions: 12,
  });
  const spec = teamSpecSchema.parse(singleTeamSpec());
  const commands: SessionCommand[] = [
    { type: 'StartSession', data: { sessionId, tenantId, teamId: 'support', spec }, metadata: meta(1) },
    { type: 'PostUserMessage', data: { messageId: 'm-old', content: 'before 0010' }, metadata: meta(2) },
  ];
  for (const command of commands) await repository.handle(command, { tenantId, sessionId });
  const action = nextAction((await repository.load(tenantId, sessionId))!);
  if (action.kind !== 'call_model') throw new Error(`expected a model call, got ${action.kind}`);
  const { state } = await repository.handle(
    {
      type: 'RecordModelCall',
      data: {
        callId: action.callId,
        outcome: 'completed',
        content: 'answered before 0010',
        toolCalls: [],
        usage: { promptTokens: 1, completionTokens: 1 },
        finishReason: 'stop',
        latencyMs: 1,
      },
      metadata: meta(3),
    },
    { tenantId, sessionId },
  );
  const events = await scratch.readStream(await repository.streamIdOf(tenantId, sessionId), { tenantId });
  return { state, events: events.map(({ type, data }) => ({ type, data })) };
};

describe('migration 0010 on a database written before session ids were scoped by tenant', () => {
  let database: TestDatabase;
  let composed: ComposedGateway;
  let app: NestFastifyApplication;
  let url: string;
  let folder: string;
  let oldEventCount: number;

  const call = (method: string, path: string, key: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: { ...bearer(key), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'migration_0010');
    folder = await migrationsBefore0010();
    await runMigrations(database.url, { migrationsFolder: folder });
    // What the code before 0010 wrote: the stream `session-<id>` (hash-chained over that id), a row
    // keyed by the session id alone, a tool-call marker without a tenant.
    const store = await createPostgresEventStore({ connectionString: database.url });
    try {
      const { state, events } = await finishedTurn('acme', 'old-1');
      oldEventCount = events.length;
      await store.append('session-old-1', events, { tenantId: 'acme', expectedVersion: 0 });
      await store.pool.query(
        `insert into sessions (session_id, tenant_id, team_id, status, version, pending_work, partition)
         values ('old-1', 'acme', 'support', $1, $2, false, 3)`,
        [state.status, state.version],
      );
      await store.pool.query(
        `insert into tool_call_attempts (session_id, tool_call_id, owner, epoch) values ('old-1', 't-1', 'r-1', 1)`,
      );
    } finally {
      await store.close();
    }
    const config = parseGatewayConfig({
      DATABASE_URL: database.url,
      AGENTLEDGER_API_KEYS: 'acme:key-acme,globex:key-globex',
      GRPC_PORT: '0',
      STREAM_POLL_INTERVAL_MS: '60000',
      RATE_LIMIT_BURST: '10000',
    });
    composed = await composeDistributedGateway(config); // applies 0010
    app = await createGatewayApp(composed.module, { bodyLimitBytes: config.BODY_LIMIT_BYTES, logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });

  afterAll(async () => {
    await app.close();
    await composed.close();
    await database.drop();
    await rm(folder, { recursive: true, force: true });
  });

  const readModel = async () => {
    const store = await createPostgresEventStore({ connectionString: database.url });
    try {
      const sessions = await store.pool.query(
        `select tenant_id, session_id, stream_id from sessions order by 1, 2`,
      );
      const markers = await store.pool.query(
        `select tenant_id, session_id, tool_call_id from tool_call_attempts`,
      );
      return { sessions: sessions.rows, markers: markers.rows };
    } finally {
      await store.close();
    }
  };

  it('keeps the old stream id in the read model and gives the marker its tenant', async () => {
    expect(await readModel()).toEqual({
      sessions: [{ tenant_id: 'acme', session_id: 'old-1', stream_id: 'session-old-1' }],
      markers: [{ tenant_id: 'acme', session_id: 'old-1', tool_call_id: 't-1' }],
    });
  });

  it('still verifies the old session (hash chain and replay) and still runs it: post, fold, audit', async () => {
    expect(await (await call('GET', '/v1/sessions/old-1/audit', 'key-acme')).json()).toMatchObject({
      eventCount: oldEventCount,
      hashChainValid: true,
      replayMatches: true,
    });
    const posted = await call('POST', '/v1/sessions/old-1/messages', 'key-acme', { content: 'after 0010' });
    expect(posted.status).toBe(202);
    const state = (await (await call('GET', '/v1/sessions/old-1', 'key-acme')).json()) as {
      version: number;
      messages: { content: string }[];
    };
    expect(state.messages.map((message) => message.content)).toEqual([
      'before 0010',
      'answered before 0010',
      'after 0010',
    ]);
    const page = (await (await call('GET', '/v1/sessions/old-1/events', 'key-acme')).json()) as {
      events: { streamId: string; version: number }[];
    };
    expect(new Set(page.events.map((event) => event.streamId))).toEqual(new Set(['session-old-1']));
    expect(page.events).toHaveLength(state.version);
    expect(await (await call('GET', '/v1/sessions/old-1/audit', 'key-acme')).json()).toMatchObject({
      eventCount: state.version,
      hashChainValid: true,
      replayMatches: true,
    });
  });

  it('lets another tenant use the old session id for a session of its own', async () => {
    expect((await call('GET', '/v1/sessions/old-1', 'key-globex')).status).toBe(404);
    expect((await call('PUT', '/v1/teams/support', 'key-globex', singleTeamSpec())).status).toBe(200);
    const created = await call('POST', '/v1/sessions', 'key-globex', {
      teamId: 'support',
      sessionId: 'old-1',
    });
    expect(created.status).toBe(201);
    expect((await readModel()).sessions).toEqual([
      { tenant_id: 'acme', session_id: 'old-1', stream_id: 'session-old-1' },
      { tenant_id: 'globex', session_id: 'old-1', stream_id: 'session-globex/old-1' },
    ]);
  });
});
