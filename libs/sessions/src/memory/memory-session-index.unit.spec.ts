import { createInMemoryEventStore } from '@agentledger/events';
import { sessionIndexContracts } from '../contract/index.ts';
import { createInMemorySessionIndex } from './memory-session-index.ts';

const DAY_MS = 86_400_000;

// The in-memory index has no transactions: the rollback cases are not registered for it.
sessionIndexContracts(
  'in-memory',
  async () => {
    let offset = 0;
    const now = (): number => Date.now() + offset;
    return {
      store: createInMemoryEventStore(),
      index: createInMemorySessionIndex(now),
      now,
      passDay: async () => {
        offset += DAY_MS;
      },
      close: async () => undefined,
    };
  },
  { transactional: false },
);
