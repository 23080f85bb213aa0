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

type Spied = 'aggregate' | 'append' | 'readStream';

/**
 * The store, recording the arguments of each call of `method` in `calls` (what a step or a
 * follower read again, how often a session was folded, what an append was given). Clear it with
 * `calls.length = 0`.
 */
export const recordingCalls = <Tx, M extends Spied>(store: EventStore<Tx>, method: M) => {
  type Args = Parameters<EventStore<Tx>[M]>;
  const calls: Args[] = [];
  const original = (store[method] as unknown as (...args: Args) => unknown).bind(store);
  const recorded = (...args: Args): unknown => {
    calls.push(args);
    return original(...args);
  };
  return { store: { ...store, [method]: recorded } as EventStore<Tx>, calls };
};
