import {
  teamSpecSchema,
  type CommandMetadata,
  type SessionCommand,
  type TeamSpec,
} from '@agentledger/agents';
import type { EventStore } from '@agentledger/events';

/** A one-agent team whose turn needs one model call. */
export const singleTeam = (): TeamSpec =>
  teamSpecSchema.parse({
    specVersion: 1,
    name: 'single',
    type: 'single',
    agents: [{ name: 'helper', model: { provider: 'scripted', model: 'scripted' } }],
  });

let counter = 0;
export const meta = (now = new Date('2026-01-01T00:00:00Z')): CommandMetadata => {
  counter += 1;
  return { commandId: `cmd-${counter}`, correlationId: `corr-${counter}`, now };
};

export const startSession = (
  sessionId: string,
  tenantId = 'tenant-a',
  spec = singleTeam(),
): SessionCommand => ({
  type: 'StartSession',
  data: { sessionId, tenantId, teamId: 'team-1', spec },
  metadata: meta(),
});

export const postMessage = (messageId: string, content: string): SessionCommand => ({
  type: 'PostUserMessage',
  data: { messageId, content },
  metadata: meta(),
});

/** The store, counting its `readStream` calls in `reads` (what a step or a follower read again). */
export const countingReads = <Tx>(store: EventStore<Tx>) => {
  const counted = {
    reads: 0,
    store: {
      ...store,
      readStream: (...args: Parameters<EventStore<Tx>['readStream']>) => {
        counted.reads += 1;
        return store.readStream(...args);
      },
    },
  };
  return counted;
};
