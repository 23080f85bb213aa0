import { eventStoreContract } from '../contract/event-store.contract.ts';
import { createInMemoryEventStore } from './in-memory-event-store.ts';

eventStoreContract(
  'in-memory',
  async () => ({ store: (options) => createInMemoryEventStore(options), close: async () => undefined }),
  { sql: false },
);
