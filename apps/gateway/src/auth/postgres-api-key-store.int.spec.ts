import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { runKeysCommand } from '../cli/keys-command.ts';
import { hashApiKey } from './api-key.ts';
import { apiKeyStoreContract } from './api-key-store.contract.ts';
import { createPostgresApiKeyStore, migrateGatewayDatabase } from './postgres-api-key-store.ts';

apiKeyStoreContract(
  'postgres',
  async () => {
    const database = await createTestDatabase(inject('databaseUrl'), 'gateway_keys_contract');
    await migrateGatewayDatabase(database.url);
    const pool = new pg.Pool({ connectionString: database.url, max: 10 });
    pool.on('error', () => undefined); // dropping the database ends idle connections
    return {
      store: createPostgresApiKeyStore(drizzle({ client: pool })),
      stored: async () => JSON.stringify((await pool.query('select * from api_keys')).rows),
      close: async () => {
        await pool.end();
        await database.drop();
      },
    };
  },
  { storage: true },
);

describe('the gateway database on Postgres: migrations race safely; the CLI prints a key once', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'gateway_keys');
    await Promise.all([migrateGatewayDatabase(database.url), migrateGatewayDatabase(database.url)]);
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    pool.on('error', () => undefined); // dropping the database ends idle connections
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  it('keys create --tenant prints a working key on stdout, once', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const store = createPostgresApiKeyStore(drizzle({ client: pool }));
    const code = await runKeysCommand(
      ['keys', 'create', '--tenant', 'acme', '--scopes', 'sessions:read,sessions:write'],
      async () => ({ store, close: async () => {} }),
      { out: (line) => out.push(line), err: (line) => err.push(line) },
    );
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^al_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(await store.findByHash(hashApiKey(out[0] ?? ''))).toMatchObject({
      tenantId: 'acme',
      scopes: ['sessions:read', 'sessions:write'],
    });
    expect(err.join('\n')).not.toContain(out[0]);
  });

  it('keys create refuses bad usage with exit code 2', async () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (line: string) => err.push(line) };
    const never = async () => {
      throw new Error('no store for bad usage');
    };
    expect(await runKeysCommand(['keys', 'create'], never, io)).toBe(2);
    expect(await runKeysCommand(['keys', 'create', '--tenant', '-bad'], never, io)).toBe(2);
    expect(await runKeysCommand(['keys', 'create', '--tenant', 't', '--scopes', 'root'], never, io)).toBe(2);
    expect(await runKeysCommand(['keys', 'delete', '--tenant', 't'], never, io)).toBe(2);
    expect(err.join('\n')).toContain('usage: agentledger keys create');
  });
});
