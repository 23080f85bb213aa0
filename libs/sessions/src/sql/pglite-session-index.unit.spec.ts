import { sql } from 'drizzle-orm';
import { createPgliteEventStore } from '@agentledger/events/pglite';
import { sessionIndexContracts } from '../contract/index.ts';
import { createSqlSessionIndex } from './sql-session-index.ts';

// The embedded mode's adapter is the SQL one on PGlite: the same contracts (one session, so the
// racing cases run serialised here; they really race on Postgres).
sessionIndexContracts(
  'pglite',
  async () => {
    const store = await createPgliteEventStore();
    return {
      store,
      index: createSqlSessionIndex(store.db),
      now: Date.now,
      passDay: async () => {
        await store.db.execute(sql`update tenant_usage set day = day - 1`);
      },
      close: () => store.close(),
    };
  },
  { transactional: true },
);
