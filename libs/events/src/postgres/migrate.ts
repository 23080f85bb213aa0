import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';

/** The repository's `migrations/` folder (drizzle-kit SQL and journal). */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../../migrations', import.meta.url));

/** Advisory lock key held while migrating, so replicas starting together apply migrations once. */
export const MIGRATION_LOCK_KEY = 4_711_000_001;

/**
 * Applies pending migrations on one connection of `target` while holding a session advisory lock:
 * N replicas starting together wait for each other and the later ones find nothing to do.
 */
export const runMigrations = async (
  target: pg.Pool | pg.ClientConfig | string,
  { migrationsFolder = MIGRATIONS_FOLDER }: { migrationsFolder?: string } = {},
): Promise<void> => {
  const client = target instanceof pg.Pool ? await target.connect() : new pg.Client(target);
  const owned = !(target instanceof pg.Pool);
  try {
    if (owned) await (client as pg.Client).connect();
    await client.query('set client_min_messages = warning');
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await migrate(drizzle({ client: client as pg.Client }), { migrationsFolder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    if (owned) await (client as pg.Client).end();
    else (client as pg.PoolClient).release();
  }
};

/** Creates the database named in `url` when it does not exist (connecting to `postgres` to do so). */
export const ensureDatabase = async (url: string): Promise<void> => {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (name === '' || name === 'postgres') return;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0)
      await client
        .query(`create database "${name.replace(/"/g, '""')}"`)
        .catch((error: { code?: string }) => {
          if (error.code !== '42P04') throw error;
        });
  } finally {
    await client.end();
  }
};
