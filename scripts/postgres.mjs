// Checks that the Postgres server for tests answers and creates the database the tests start from.
// DATABASE_URL wins; otherwise the local server on 127.0.0.1:5432. Each test file then creates
// (and drops) its own database on this server.
import pg from 'pg';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
try {
  await client.connect();
  const { rows } = await client.query('show server_version');
  console.log(`[postgres] ${redact(url)} answers (PostgreSQL ${rows[0].server_version})`);
} catch (error) {
  console.error(
    `[postgres] cannot reach ${redact(url)}: ${error.message}\n` +
      'Start a server, e.g. on Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n' +
      'or point DATABASE_URL at one (postgres://user@host:port/db).',
  );
  process.exit(1);
} finally {
  await client.end().catch(() => {});
}

function redact(value) {
  return value.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
