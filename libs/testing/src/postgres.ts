import pg from 'pg';

export type TestDatabase = Readonly<{ url: string; name: string; drop: () => Promise<void> }>;

/**
 * Creates a fresh, uniquely named database on the test server (one per spec file, so specs never
 * see each other's rows) and returns its URL and a `drop` for `afterAll`.
 */
export const createTestDatabase = async (adminUrl: string, prefix = 't'): Promise<TestDatabase> => {
  const name = `al_${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${Date.now().toString(36)}_${Math.random()
    .toString(36)
    .slice(2, 8)}`;
  await withAdmin(adminUrl, (client) => client.query(`create database "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      await withAdmin(adminUrl, async (client) => {
        // A pool's `end` resolves before its connections have closed: FORCE would terminate one
        // still closing, whose client then reports 57P01 with no listener left (an uncaught error
        // in the spec's process). So first wait, briefly, for the database's connections to go.
        for (const deadline = Date.now() + 2_000; Date.now() < deadline;) {
          const { rows } = await client.query<{ n: number }>(
            'select count(*)::int as n from pg_stat_activity where datname = $1',
            [name],
          );
          if (rows[0]!.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await client.query(`drop database if exists "${name}" with (force)`);
      });
    },
  };
};

const withAdmin = async <T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};
