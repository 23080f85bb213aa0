import { generateKeyPairSync } from 'node:crypto';
import { teamSpecSchema, type SessionCommand } from '@agentledger/agents';
import { StreamDeleted } from '@agentledger/events';
import { createPostgresEventStore, type PostgresEventStore } from '@agentledger/events/postgres';
import {
  closeThroughEngine,
  createCheckpointSigner,
  createSessionEngine,
  runRetention,
  type RetentionPolicies,
  type RetentionReport,
} from '@agentledger/sessions';
import {
  createSqlCheckpointStore,
  createSqlRetentionStore,
  createSqlSessionIndex,
} from '@agentledger/sessions/sql';
import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runVerifyCommand, type AuditCliOpener } from './audit-commands.ts';
import { runRetentionCommand, type RetentionCliOpener } from './retention-command.ts';

const DAY = 86_400_000;
const spec = teamSpecSchema.parse({
  specVersion: 1,
  name: 'single',
  type: 'single',
  agents: [{ name: 'helper', model: { provider: 'scripted', model: 'scripted' } }],
});
const signer = createCheckpointSigner({
  keyId: 'k1',
  privateKeyPem: generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
});

let database: TestDatabase;
let store: PostgresEventStore;
let seq = 0;

const engine = () => createSessionEngine({ store, index: createSqlSessionIndex(store.db), partitions: 4 });
const command = (type: string, data: object, now: Date): SessionCommand =>
  ({ type, data, metadata: { commandId: `c-${++seq}`, correlationId: `c-${seq}`, now } }) as SessionCommand;

const start = (tenantId: string, sessionId: string, now: Date, idempotencyKey?: string) =>
  engine().handle(command('StartSession', { sessionId, tenantId, teamId: 't1', spec }, now), {
    tenantId,
    sessionId,
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
  });
const post = (tenantId: string, sessionId: string, now: Date) =>
  engine().handle(command('PostUserMessage', { messageId: `m-${++seq}`, content: 'hi' }, now), {
    tenantId,
    sessionId,
    idempotencyKey: `k-${seq}`,
  });
const close = (tenantId: string, sessionId: string, now: Date) =>
  engine().handle(command('CloseSession', {}, now), { tenantId, sessionId });

/** The error a promise rejects with; fails the test when it resolves. */
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

const query = async (text: string, values: unknown[] = []) => (await store.pool.query(text, values)).rows;
const count = async (table: string, where = 'true', values: unknown[] = []) =>
  Number((await query(`select count(*) as n from ${table} where ${where}`, values))[0].n);
const headOf = async (streamId: string) =>
  (await query('select version, head_hash from streams where stream_id = $1', [streamId]))[0] as
    { version: number; head_hash: string } | undefined;

beforeAll(async () => {
  database = await createTestDatabase(inject('databaseUrl'), 'retention');
  store = await createPostgresEventStore({ connectionString: database.url, migrate: true });
});

afterAll(async () => {
  await store.close();
  await database.drop();
});

describe('agentledger retention run on Postgres', () => {
  // The wall clock of the appends is T0; the test moves the run's clock in days from there.
  const t0 = Date.now();
  const at = (days: number) => new Date(t0 + days * DAY);
  const policies: RetentionPolicies = {
    default: { kind: 'expire', deleteClosedAfterDays: 30 },
    tenants: {
      acme: { kind: 'expire', closeIdleAfterDays: 7, deleteClosedAfterDays: 30 },
      globex: { kind: 'keep_forever' },
    },
    idempotencyKeyHours: 24,
  };
  const open: RetentionCliOpener = async () => ({
    store: createSqlRetentionStore(store.db),
    closeSession: closeThroughEngine(engine()),
    close: async () => undefined,
  });
  const run = async (days: number, ...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runRetentionCommand(
      ['retention', 'run', ...args],
      policies,
      open,
      { out: (l) => out.push(l), err: (l) => err.push(l), progress: () => undefined },
      () => at(days),
    );
    expect({ code, err }).toMatchObject({ code: 0 });
    return JSON.parse(out.join('')) as RetentionReport;
  };
  const deletedIds = (report: RetentionReport) =>
    report.tenants.flatMap((t) => t.deleted.map((d) => `${t.tenantId}/${d.sessionId}`)).sort();
  const closedIds = (report: RetentionReport) =>
    report.tenants.flatMap((t) => t.closed.map((id) => `${t.tenantId}/${id}`)).sort();

  let signedHead: { version: number; head_hash: string };

  beforeAll(async () => {
    await start('acme', 'old', at(0));
    await post('acme', 'old', at(0));
    await close('acme', 'old', at(0));
    const oldStream = 'session-acme/old';
    signedHead = (await headOf(oldStream))!;
    await createSqlCheckpointStore(store.db).save(
      signer.sign(
        { tenant: 'acme', streamId: oldStream, version: signedHead.version, hash: signedHead.head_hash },
        at(0),
      ),
    );
    await start('acme', 'idle', at(0));
    await start('acme', 'busy', at(0));
    await post('acme', 'busy', at(0)); // a turn is running: never closed by the policy
    await start('globex', 'old', at(0));
    await close('globex', 'old', at(0));
    await start('initech', 'old', at(0));
    await close('initech', 'old', at(0));
  });

  it('a dry run reports what a run would do and changes nothing', async () => {
    const events = await count('events');
    const report = await run(31, '--dry-run');
    expect(report.dryRun).toBe(true);
    expect(deletedIds(report)).toEqual(['acme/old', 'initech/old']);
    expect(closedIds(report)).toEqual(['acme/idle']);
    expect(await count('events')).toBe(events);
    expect(await count('session_tombstones')).toBe(0);
  });

  it('deletes and closes exactly the sessions the policies name, on the run clock', async () => {
    const day1 = await run(1);
    expect([deletedIds(day1), closedIds(day1)]).toEqual([[], []]);

    const day8 = await run(8);
    expect(closedIds(day8)).toEqual(['acme/idle']);
    expect(deletedIds(day8)).toEqual([]);

    const globexEvents = await count('events', 'tenant_id = $1', ['globex']);
    const day31 = await run(31);
    expect(deletedIds(day31)).toEqual(['acme/old', 'initech/old']);
    expect(closedIds(day31)).toEqual([]);
    expect(await count('events', 'stream_id = $1', ['session-acme/old'])).toBe(0);
    expect(await count('sessions', "tenant_id = 'acme' and session_id = 'old'")).toBe(0);
    expect(await count('audit_checkpoints')).toBe(0);
    // other tenants (the same session id under globex) and other sessions are untouched
    expect(await count('events', 'tenant_id = $1', ['globex'])).toBe(globexEvents);
    expect(await headOf('session-acme/busy')).toBeDefined();

    // acme/idle was closed on day 8 (SessionClosed says so): 30 days later it goes
    expect(deletedIds(await run(37))).toEqual([]);
    expect(deletedIds(await run(38))).toEqual(['acme/idle']);

    const tombstones = await createSqlRetentionStore(store.db).tombstones('acme');
    expect(tombstones.map((t) => t.sessionId)).toEqual(['old', 'idle']);
    const [old] = tombstones;
    expect(old).toMatchObject({
      streamId: 'session-acme/old',
      headVersion: signedHead.version,
      headHash: signedHead.head_hash,
      eventCount: signedHead.version,
      checkpoint: { version: signedHead.version, hash: signedHead.head_hash, keyId: 'k1' },
      policy: { kind: 'expire', source: 'tenant', deleteClosedAfterDays: 30 },
      deletedAt: at(31).toISOString(),
    });
  });

  it('verify --all accepts the tombstones and reports them', async () => {
    const open: AuditCliOpener = async () => ({
      store,
      streamIdOf: async (tenant, session) => `session-${tenant}/${session}`,
      checkpoints: createSqlCheckpointStore(store.db),
      signer,
      tombstones: createSqlRetentionStore(store.db).tombstones,
      close: async () => undefined,
    });
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    expect(await runVerifyCommand(['verify', '--all', '--json'], open, io)).toBe(0);
    const summary = JSON.parse(out.join('')) as {
      failures: unknown[];
      sessions: number;
      tombstones: { tenant: string; session: string; signedVersion: number | null }[];
    };
    expect(summary.failures).toEqual([]);
    expect(summary.sessions).toBe(2); // acme/busy and globex/old are still there
    expect(summary.tombstones.map((t) => `${t.tenant}/${t.session}`)).toEqual([
      'acme/old',
      'initech/old',
      'acme/idle',
    ]);
    expect(summary.tombstones[0]!.signedVersion).toBe(signedHead.version);

    out.length = 0;
    expect(await runVerifyCommand(['verify', 'old', '--tenant', 'acme'], open, io)).toBe(0);
    expect(out.join('\n')).toContain('TOMBSTONE acme/old:');
  });

  it('never reuses a deleted session id: starting it again is refused and writes nothing', async () => {
    const error = await rejection(start('acme', 'old', at(40)));
    expect(error).toBeInstanceOf(StreamDeleted);
    expect(await count('events', 'stream_id = $1', ['session-acme/old'])).toBe(0);
    expect(await count('sessions', "tenant_id = 'acme' and session_id = 'old'")).toBe(0);
    // another tenant may still use the same id: its stream is its own
    await start('initech', 'fresh', at(40));
    expect(await count('events', 'stream_id = $1', ['session-initech/fresh'])).toBe(1);
  });

  it('keeps the events guard: plain DELETE, UPDATE and TRUNCATE fail, and so does a tombstone for a prefix', async () => {
    const where = "stream_id = 'session-globex/old'";
    for (const statement of [
      `delete from events where ${where}`,
      `update events set type = 'X' where ${where}`,
      'truncate events',
      'delete from session_tombstones',
    ])
      expect({ statement, error: await rejection(query(statement)) }).toMatchObject({
        statement,
        error: { code: '23001' },
      });
    const head = (await headOf('session-globex/old'))!;
    // A hand-written tombstone that matches the head still cannot delete part of the session.
    const client = await store.pool.connect();
    try {
      await client.query('begin');
      await client.query(
        `insert into session_tombstones (tenant_id, session_id, stream_id, head_version, head_hash, event_count, policy, deleted_at)
         values ('globex', 'old', 'session-globex/old', $1, $2, $1, '{}', now())`,
        [head.version, head.head_hash],
      );
      await client.query(`delete from events where ${where} and version = 1`);
      expect(await rejection(client.query('commit'))).toMatchObject({
        message: expect.stringContaining('whole sessions only'),
      });
    } finally {
      client.release();
    }
    expect(await count('events', where)).toBe(head.version);
    expect(await count('session_tombstones', "tenant_id = 'globex'")).toBe(0);
  });
});

describe('a long retention run', () => {
  it('keeps sessions, idempotency keys and tool-call attempt markers bounded', async () => {
    const t0 = Date.now();
    const tenantId = 'longrun';
    const policies: RetentionPolicies = {
      default: { kind: 'keep_forever' },
      tenants: { longrun: { kind: 'expire', closeIdleAfterDays: 1, deleteClosedAfterDays: 2 } },
      idempotencyKeyHours: 24,
    };
    const retention = createSqlRetentionStore(store.db);
    const index = createSqlSessionIndex(store.db);
    const scope = 'tenant_id = $1';
    const counts = async () => ({
      sessions: await count('sessions', scope, [tenantId]),
      events: await count('events', scope, [tenantId]),
      idempotencyKeys: await count('idempotency_keys', scope, [tenantId]),
      toolCallAttempts: await count('tool_call_attempts', scope, [tenantId]),
      tombstones: await count('session_tombstones', scope, [tenantId]),
    });
    const perDay = 10;
    const days = 15;
    const rows: Record<string, number | string>[] = [];
    for (let day = 1; day <= days; day += 1) {
      const now = new Date(t0 + day * DAY);
      for (let i = 0; i < perDay; i += 1) {
        const sessionId = `d${day}-s${i}`;
        await start(tenantId, sessionId, new Date(t0), `create-${sessionId}`);
        const lease = (await index.acquire(tenantId, sessionId, 'worker-1', 60_000))!;
        await index.markAttempt(lease, `tc-${sessionId}`);
        await index.release(lease);
      }
      const before = await counts();
      await runRetention(
        { store: retention, closeSession: closeThroughEngine(engine()), policies },
        { now, tenantId },
      );
      const after = await counts();
      rows.push({
        day,
        ...Object.fromEntries(
          Object.entries(before).map(([k, v]) => [k, `${v} -> ${after[k as keyof typeof after]}`]),
        ),
      });
    }
    console.table(rows);
    const end = await counts();
    // 150 sessions were created; a session lives at most 3 simulated days (idle 1, closed 2).
    expect(end.sessions).toBeLessThanOrEqual(3 * perDay);
    expect(end.idempotencyKeys).toBe(0);
    expect(end.toolCallAttempts).toBeLessThanOrEqual(end.sessions);
    expect(end.tombstones + end.sessions).toBe(days * perDay);
  });
});
