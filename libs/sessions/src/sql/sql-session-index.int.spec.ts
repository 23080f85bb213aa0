import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sessionStreamId } from '@agentledger/events';
import { createPostgresEventStore, type PostgresEventStore } from '@agentledger/events/postgres';
import { createTestDatabase, eventually, type TestDatabase } from '@agentledger/testing';
import { LeaseLost } from '../errors.ts';
import { createSessionEngine } from '../engine/session-engine.ts';
import { postMessage, startSession } from '../testing/fixtures.ts';
import { createSqlSessionIndex } from './sql-session-index.ts';

describe('sessions read model and leases on Postgres', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;
  let index: ReturnType<typeof createSqlSessionIndex>;

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'sessions');
    store = await createPostgresEventStore({ connectionString: database.url, migrate: true });
    index = createSqlSessionIndex(store.db);
  });

  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  const repository = () => createSessionEngine({ store, index, partitions: 12 });

  it('writes the row in the append transaction and pages through a tenant’s sessions', async () => {
    for (const id of ['p1', 'p2', 'p3'])
      await repository().handle(startSession(id), { tenantId: 'tenant-a', sessionId: id });
    await repository().handle(startSession('p4', 'tenant-b'), { tenantId: 'tenant-b', sessionId: 'p4' });
    const first = await index.list({ tenantId: 'tenant-a', limit: 2 });
    expect(first.items.map((r) => r.sessionId)).toEqual(['p1', 'p2']);
    const second = await index.list({ tenantId: 'tenant-a', limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((r) => r.sessionId)).toEqual(['p3']);
    expect(second.nextCursor).toBeNull();
    expect(await index.get('tenant-b', 'p1')).toBeUndefined();
  });

  it('gives a free lease to exactly one of many concurrent claimants', async () => {
    await repository().handle(startSession('l1'), { tenantId: 'tenant-a', sessionId: 'l1' });
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => index.acquire('tenant-a', 'l1', `replica-${i}`, 30_000)),
    );
    const winners = claims.filter((c) => c !== undefined);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.epoch).toBe(1);
  });

  it('gives every acquisition a fresh epoch: the earlier holder of the same owner name is fenced', async () => {
    await repository().handle(startSession('l3'), { tenantId: 'tenant-a', sessionId: 'l3' });
    const first = await index.acquire('tenant-a', 'l3', 'replica-same', 30_000);
    const second = await index.acquire('tenant-a', 'l3', 'replica-same', 30_000);
    expect(second!.epoch).toBe(first!.epoch + 1);
    const before = await store.readStream(sessionStreamId('tenant-a', 'l3'), { tenantId: 'tenant-a' });
    await expect(
      repository().handle(postMessage('m1', 'x'), { tenantId: 'tenant-a', sessionId: 'l3', lease: first! }),
    ).rejects.toBeInstanceOf(LeaseLost);
    expect(await store.readStream(sessionStreamId('tenant-a', 'l3'), { tenantId: 'tenant-a' })).toHaveLength(
      before.length,
    );
    expect(await index.renew(first!, 30_000)).toBe(false);
    await repository().handle(postMessage('m1', 'x'), {
      tenantId: 'tenant-a',
      sessionId: 'l3',
      lease: second!,
    });
    expect(await index.get('tenant-a', 'l3')).toMatchObject({ leaseEpoch: second!.epoch, pendingWork: true });
  });

  it('fences appends by epoch: a worker whose lease expired and was taken changes nothing', async () => {
    await repository().handle(startSession('l2'), { tenantId: 'tenant-a', sessionId: 'l2' });
    const stale = await index.acquire('tenant-a', 'l2', 'replica-1', 1); // expires at once
    const current = await (async () => {
      for (;;) {
        const lease = await index.acquire('tenant-a', 'l2', 'replica-2', 30_000);
        if (lease) return lease;
      }
    })();
    expect(current.epoch).toBe(stale!.epoch + 1);
    const before = await store.readStream(sessionStreamId('tenant-a', 'l2'), { tenantId: 'tenant-a' });
    await expect(
      repository().handle(postMessage('m1', 'x'), { tenantId: 'tenant-a', sessionId: 'l2', lease: stale! }),
    ).rejects.toBeInstanceOf(LeaseLost);
    expect(await store.readStream(sessionStreamId('tenant-a', 'l2'), { tenantId: 'tenant-a' })).toHaveLength(
      before.length,
    );
    await repository().handle(postMessage('m1', 'x'), {
      tenantId: 'tenant-a',
      sessionId: 'l2',
      lease: current,
    });
    const row = await index.get('tenant-a', 'l2');
    expect(row).toMatchObject({ leaseOwner: 'replica-2', leaseEpoch: current.epoch, pendingWork: true });
    expect(await index.renew(stale!, 30_000)).toBe(false);
    expect(await index.releaseAll('replica-without-leases')).toBe(0);
    await index.release(current);
    expect((await index.get('tenant-a', 'l2'))?.leaseOwner).toBeNull();
  });

  it('adds the tokens an append recorded to the tenant’s usage of the day, in the same transaction', async () => {
    const { state } = await repository().handle(startSession('u1', 'tenant-u'), {
      tenantId: 'tenant-u',
      sessionId: 'u1',
    });
    const row = {
      ...repository().projectionOf(state, sessionStreamId(state.tenantId, state.sessionId)),
      tokensUsed: 42,
    };
    const appendWith = (tokensUsed: number, fail = false) =>
      store.append(sessionStreamId('tenant-u', 'u1'), [{ type: 'Probe', data: {} }], {
        tenantId: 'tenant-u',
        expectedVersion: 'any',
        inline: async ({ tx }) => {
          await index.project(tx, { ...row, tokensUsed });
          if (fail) throw new Error('rolled back');
        },
      });
    await appendWith(42);
    await appendWith(8);
    await expect(appendWith(1000, true)).rejects.toThrow('rolled back');
    expect(await index.tenantTokensToday('tenant-u')).toBe(50);
    expect(await index.tenantTokensToday('tenant-a')).toBe(0);
  });

  it('lists sessions whose owner’s lease expired as orphans in any partition', async () => {
    await repository().handle(startSession('o1'), { tenantId: 'tenant-a', sessionId: 'o1' });
    await repository().handle(postMessage('m1', 'work'), { tenantId: 'tenant-a', sessionId: 'o1' });
    await index.acquire('tenant-a', 'o1', 'replica-dead', 1);
    await eventually('the lease to expire', async () =>
      (await index.orphaned(100)).some((r) => r.sessionId === 'o1') ? true : undefined,
    );
    const taken = await index.acquire('tenant-a', 'o1', 'replica-alive', 30_000);
    expect(taken?.owner).toBe('replica-alive');
    expect((await index.orphaned(100)).map((r) => r.sessionId)).not.toContain('o1');
  });

  it('keeps two tenants’ sessions of one id apart: rows, streams, leases and tool-call markers', async () => {
    await repository().handle(startSession('same', 'tenant-a'), { tenantId: 'tenant-a', sessionId: 'same' });
    const { state: a } = await repository().handle(postMessage('m1', 'only in a'), {
      tenantId: 'tenant-a',
      sessionId: 'same',
    });
    await repository().handle(startSession('same', 'tenant-b'), { tenantId: 'tenant-b', sessionId: 'same' });
    expect(await index.get('tenant-a', 'same')).toMatchObject({
      streamId: 'session-tenant-a/same',
      version: a.version,
    });
    expect(await index.get('tenant-b', 'same')).toMatchObject({
      streamId: 'session-tenant-b/same',
      version: 1,
    });
    const leaseA = await index.acquire('tenant-a', 'same', 'replica-a', 30_000);
    const leaseB = await index.acquire('tenant-b', 'same', 'replica-b', 30_000);
    expect([leaseA?.epoch, leaseB?.epoch]).toEqual([1, 1]);
    expect(await index.markAttempt(leaseA!, 'same-t1')).toBe(true);
    expect(await index.markAttempt(leaseB!, 'same-t1')).toBe(true);
    await repository().handle(postMessage('m1', 'only in b'), {
      tenantId: 'tenant-b',
      sessionId: 'same',
      lease: leaseB!,
    });
    expect((await index.get('tenant-a', 'same'))?.version).toBe(a.version);
    await index.release(leaseA!);
    expect((await index.get('tenant-b', 'same'))?.leaseOwner).toBe('replica-b');
  });

  it('lists sessions with work and a free lease in owned partitions only', async () => {
    const { state } = await repository().handle(startSession('r1'), {
      tenantId: 'tenant-a',
      sessionId: 'r1',
    });
    await repository().handle(postMessage('m1', 'work'), { tenantId: 'tenant-a', sessionId: 'r1' });
    const partition = repository().projectionOf(
      state,
      sessionStreamId(state.tenantId, state.sessionId),
    ).partition;
    const mine = await index.recoverable([partition], 100);
    expect(mine.map((r) => r.sessionId)).toContain('r1');
    const others = await index.recoverable([(partition + 1) % 12], 100);
    expect(others.map((r) => r.sessionId)).not.toContain('r1');
    const lease = await index.acquire('tenant-a', 'r1', 'replica-r1', 30_000);
    expect((await index.recoverable([partition], 100)).map((r) => r.sessionId)).not.toContain('r1');
    expect(await index.orphaned(100)).toEqual([]);
    expect(await index.markAttempt(lease!, 'r1-t1')).toBe(true);
    expect(await index.markAttempt(lease!, 'r1-t1')).toBe(false);
    expect(await index.releaseAll('replica-r1')).toBe(1);
    expect((await index.get('tenant-a', 'r1'))?.leaseOwner).toBeNull();
  });
});

describe('session commands racing on Postgres', () => {
  let database: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'races');
    store = await createPostgresEventStore({ connectionString: database.url, migrate: true });
  });

  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  it('retries version conflicts (raised inside the projection’s transaction) until every command lands', async () => {
    const index = createSqlSessionIndex(store.db);
    const repositories = Array.from({ length: 20 }, () =>
      createSessionEngine({ store, index, partitions: 12 }),
    );
    await repositories[0]!.handle(startSession('race'), { tenantId: 'tenant-a', sessionId: 'race' });
    await Promise.all(
      repositories.map((repository, i) =>
        repository.handle(postMessage(`m${i}`, `message ${i}`), { tenantId: 'tenant-a', sessionId: 'race' }),
      ),
    );
    const state = await repositories[0]!.load('tenant-a', 'race');
    expect(state?.messages.filter((m) => m.role === 'user')).toHaveLength(20);
    expect((await index.get('tenant-a', 'race'))?.version).toBe(state?.version);
  });
});
