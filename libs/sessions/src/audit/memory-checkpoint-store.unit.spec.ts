import { checkpointStoreContract } from './checkpoint-store.contract.ts';
import { createInMemoryCheckpointStore } from './memory-checkpoint-store.ts';

checkpointStoreContract('in-memory', async () => createInMemoryCheckpointStore());
