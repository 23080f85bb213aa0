import { deltaChannelContract } from './delta-channel.contract.ts';
import { createInProcessDeltaChannel } from './in-process-delta-channel.ts';

deltaChannelContract('in-process', async () => {
  const channel = createInProcessDeltaChannel();
  return { channel, close: () => channel.close() };
});
