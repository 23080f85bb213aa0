import { fileURLToPath } from 'node:url';
import { and, asc, eq, isNull, sql, TransactionRollbackError } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { type AnyPgDatabase, translatingPgErrors } from '@agentledger/events/postgres';
import pg from 'pg';
import { SCOPES, type ApiKeyRecord, type Scope } from './api-key.ts';
import type { ApiKeyAdmin, ApiKeyStore } from './api-key-store.port.ts';

/** The table of migrations/gateway/0000_api_keys.sql. */
export const apiKeysTable = pgTable(
  'api_keys',
  {
    keyHash: text('key_hash').primaryKey(),
    keyId: text('key_id').notNull().unique(),
    tenantId: text('tenant_id').notNull(),
    scopes: text('scopes').array().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [index('api_keys_tenant_idx').on(table.tenantId)],
);

export const GATEWAY_MIGRATIONS_FOLDER = fileURLToPath(
  new URL('../../../../migrations/gateway', import.meta.url),
);
const GATEWAY_MIGRATION_LOCK_KEY = 4_711_000_101;

/** Applies the gateway's migrations once, even when several gateways start together. */
export const migrateGatewayDatabase = async (connectionString: string): Promise<void> => {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query('set client_min_messages = warning');
    await client.query('select pg_advisory_lock($1)', [GATEWAY_MIGRATION_LOCK_KEY]);
    try {
      await migrate(drizzle({ client }), {
        migrationsFolder: GATEWAY_MIGRATIONS_FOLDER,
        migrationsTable: '__drizzle_gateway_migrations',
      });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [GATEWAY_MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
};

const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);

const rowOf = (record: ApiKeyRecord) => ({
  keyHash: record.keyHash,
  keyId: record.keyId,
  tenantId: record.tenantId,
  scopes: [...record.scopes],
  createdAt: record.createdAt,
});

/** The tenant's active key `keyId`, revoked now (database clock); true when there was one. */
const revokeIn = async (
  db: Pick<AnyPgDatabase, 'update'>,
  tenantId: string,
  keyId: string,
): Promise<boolean> =>
  (
    await db
      .update(apiKeysTable)
      .set({ revokedAt: sql`clock_timestamp()` })
      .where(
        and(
          eq(apiKeysTable.tenantId, tenantId),
          eq(apiKeysTable.keyId, keyId),
          isNull(apiKeysTable.revokedAt),
        ),
      )
      .returning({ keyId: apiKeysTable.keyId })
  ).length > 0;

/**
 * API keys in Postgres (or PGlite: any drizzle Postgres database). Revoked keys are not found.
 * Only hashes are stored.
 */
export const createPostgresApiKeyStore = (db: AnyPgDatabase): ApiKeyStore & ApiKeyAdmin =>
  translatingPgErrors({
    findByHash: async (keyHash) => {
      const [row] = await db
        .select()
        .from(apiKeysTable)
        .where(and(eq(apiKeysTable.keyHash, keyHash), isNull(apiKeysTable.revokedAt)))
        .limit(1);
      if (row === undefined) return undefined;
      return {
        keyId: row.keyId,
        tenantId: row.tenantId,
        scopes: row.scopes.filter(isScope),
        keyHash: row.keyHash,
        createdAt: row.createdAt,
      };
    },
    add: async (record) => {
      await db.insert(apiKeysTable).values(rowOf(record)).onConflictDoNothing();
    },
    list: async (tenantId) =>
      (
        await db
          .select()
          .from(apiKeysTable)
          .where(eq(apiKeysTable.tenantId, tenantId))
          .orderBy(asc(apiKeysTable.createdAt), asc(apiKeysTable.keyId))
      ).map((row) => ({
        keyId: row.keyId,
        tenantId: row.tenantId,
        scopes: row.scopes.filter(isScope),
        createdAt: row.createdAt,
        revokedAt: row.revokedAt,
      })),
    revoke: (tenantId, keyId) => revokeIn(db, tenantId, keyId),
    rotate: async (tenantId, keyId, next) => {
      if (next.tenantId !== tenantId) return false;
      // A concurrent rotation of the same key waits on the row and then finds it revoked.
      return db
        .transaction(async (tx) => {
          if (!(await revokeIn(tx, tenantId, keyId))) return false;
          const inserted = await tx
            .insert(apiKeysTable)
            .values(rowOf(next))
            .onConflictDoNothing()
            .returning({ keyId: apiKeysTable.keyId });
          if (inserted.length === 0) tx.rollback(); // `next`'s hash is taken: keep the old key
          return true;
        })
        .catch((error: unknown) => {
          if (error instanceof TransactionRollbackError) return false;
          throw error;
        });
    },
  });
