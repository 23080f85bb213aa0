import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { builtinTools, type ModelClient } from '@agentledger/agents';
import { sessionStreamId, Unavailable } from '@agentledger/events';
import { createPostgresEventStore, type PostgresEventStore } from '@agentledger/events/postgres';
import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { createSqlSessionIndex } from '../sql/sql-session-index.ts';
import { postMessage, startSession } from '../testing/fixtures.ts';
import { createSessionEngine } from './session-engine.ts';

/**
 * A TCP proxy in front of the test server that can drop every connection and refuse new ones (a
 * database restart, as the product's pool sees it) and then let connections through again.
 */
const startProxy = async (target: URL) => {
  const sockets = new Set<Socket>();
  let refusing = false;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server: Server = createServer((client) => {
    track(client);
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port || 5432), target.hostname);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    down: (): void => {
      refusing = true;
      for (const socket of sockets) socket.destroy();
    },
    up: (): void => {
      refusing = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

const ref = { tenantId: 'tenant-a', sessionId: 'outage' };

describe('a step on Postgres while the database drops its connections', () => {
  let database: TestDatabase;
  let direct: PostgresEventStore;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let store: PostgresEventStore;

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'outage');
    direct = await createPostgresEventStore({ connectionString: database.url, migrate: true });
    proxy = await startProxy(new URL(database.url));
    store = await createPostgresEventStore({ connectionString: proxy.url });
  });

  afterAll(async () => {
    proxy.up();
    await store.close();
    await direct.close();
    await proxy.close();
    await database.drop();
  });

  it('reads fail with Unavailable while the database is unreachable', async () => {
    proxy.down();
    try {
      await expect(
        store.readStream(sessionStreamId('tenant-a', 'any'), { tenantId: 'tenant-a' }),
      ).rejects.toThrow(Unavailable);
      await expect(createSqlSessionIndex(store.db).get('tenant-a', 'any')).rejects.toThrow(Unavailable);
    } finally {
      proxy.up();
    }
  });

  it('records the answer of a model call made before the drop once the database is back, calling the model once', async () => {
    const index = createSqlSessionIndex(store.db);
    let calls = 0;
    const model: ModelClient = {
      complete: async () => {
        calls += 1;
        // The answer is paid for; then every connection drops and stays refused for a second.
        proxy.down();
        setTimeout(proxy.up, 1_000);
        return {
          content: 'paid for',
          toolCalls: [],
          usage: { promptTokens: 1, completionTokens: 1 },
          finishReason: 'stop' as const,
        };
      },
    };
    const engine = createSessionEngine({
      store,
      index,
      partitions: 12,
      effects: { models: () => model, tools: builtinTools(), clock: () => new Date() },
    });
    await engine.handle(startSession(ref.sessionId), ref);
    await engine.handle(postMessage('m1', 'hello'), ref);
    const lease = await index.acquire(ref.tenantId, ref.sessionId, 'replica-1', 30_000);
    expect(lease).toBeDefined();

    const outcome = await engine.step(ref, lease, new AbortController().signal);

    expect(calls).toBe(1);
    expect(outcome).toMatchObject({ status: 'idle' });
    expect(outcome.state?.messages.at(-1)?.content).toBe('paid for');
    const stored = await direct.readStream(sessionStreamId(ref.tenantId, ref.sessionId), {
      tenantId: ref.tenantId,
    });
    expect(stored.filter((event) => event.type === 'ModelCallCompleted')).toHaveLength(1);
    expect(stored.at(-1)?.version).toBe(outcome.state?.version);
  });
});
