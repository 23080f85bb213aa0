import { createInProcessEventBus } from './in-process-event-bus.ts';
import { eventBusContract } from './contract/event-bus.contract.ts';

let groups = 0;

eventBusContract('in-process', async () => {
  const bus = createInProcessEventBus({ partitions: 6 });
  return { bus, partitions: 6, groupId: (label) => `${label}-${++groups}`, close: bus.close };
});
