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
      await withAdmin(adminUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
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
