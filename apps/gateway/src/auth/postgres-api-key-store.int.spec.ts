import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { runKeysCommand } from '../cli/keys-command.ts';
import { hashApiKey, seededApiKey } from './api-key.ts';
import type { ApiKeyStore } from './api-key-store.port.ts';
import { createInMemoryApiKeyStore } from './in-memory-api-key-store.ts';
import { createPostgresApiKeyStore, migrateGatewayDatabase } from './postgres-api-key-store.ts';

describe('API key stores: Postgres and in-memory behave the same; the CLI prints a key once', () => {
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

  const adapters: readonly [string, () => ApiKeyStore][] = [
    ['postgres', () => createPostgresApiKeyStore(drizzle({ client: pool }))],
    ['in-memory', () => createInMemoryApiKeyStore()],
  ];

  for (const [name, open] of adapters) {
    it(`${name}: finds a key by hash only, keeps the first record of a hash`, async () => {
      const store = open();
      const record = seededApiKey(`tenant-${name}`, `key-${name}`, new Date('2026-01-01T00:00:00Z'));
      expect(await store.findByHash(record.keyHash)).toBeUndefined();
      await store.add(record);
      await store.add({ ...record, tenantId: 'someone-else' });
      expect(await store.findByHash(record.keyHash)).toMatchObject({
        keyId: record.keyId,
        tenantId: `tenant-${name}`,
        scopes: record.scopes,
      });
      expect(await store.findByHash(hashApiKey('another key'))).toBeUndefined();
    });
  }

  it('stores no key, only its hash', async () => {
    await createPostgresApiKeyStore(drizzle({ client: pool })).add(
      seededApiKey('t', 'plain-secret', new Date()),
    );
    const { rows } = await pool.query<Record<string, unknown>>('select * from api_keys');
    expect(JSON.stringify(rows)).not.toContain('plain-secret');
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
