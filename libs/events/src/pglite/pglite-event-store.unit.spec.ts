import { eventStoreContract } from '../contract/event-store.contract.ts';
import { createSqlEventStore } from '../postgres/sql-event-store.ts';
import { createPgliteDriver, createPgliteEventStore } from './pglite-event-store.ts';

// One PGlite per file (each costs ~0.7 GB and seconds to start); store views share it.
eventStoreContract('pglite', async () => {
  const { pglite } = await createPgliteEventStore();
  const keepOpen = async (): Promise<void> => undefined;
  return {
    store: (options) => createSqlEventStore(createPgliteDriver(pglite, keepOpen), options),
    transaction: (work) =>
      pglite.transaction((tx) => work((text, params) => tx.query(text, params ? [...params] : []))),
    close: () => pglite.close(),
  };
});
