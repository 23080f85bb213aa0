import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@agentledger/events';
import { followTrace, NO_TRACE, traceToContinue } from './turn-trace.ts';

const FIRST = '00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01';
const SECOND = '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01';
const THIRD = '00-5e3c0c5e0e6f4a8f9b1d2c3a4b5c6d7e-1111111111111111-01';

/** An event of `type` with `data`, appended under `traceparent` (only the fields the trace reads). */
const event = (type: string, data: unknown, traceparent: string): EventEnvelope =>
  ({ type, data, metadata: { traceparent } }) as unknown as EventEnvelope;

describe('turn trace', () => {
  it('starts a queued message’s turn in that message’s trace and forgets it as queued', () => {
    const queued = followTrace(
      followTrace(NO_TRACE, event('UserMessageReceived', { messageId: 'm1' }, FIRST)),
      event('UserMessageReceived', { messageId: 'm2' }, SECOND),
    );
    const started = followTrace(queued, event('TurnStarted', { messageId: 'm2' }, THIRD));
    expect(started).toEqual({ last: THIRD, turn: SECOND, queued: new Map([['m1', FIRST]]) });
    expect(traceToContinue(started)).toBe(SECOND);
  });

  it('keeps the running turn’s trace through an event of another trace that starts no turn', () => {
    const started = followTrace(
      followTrace(NO_TRACE, event('UserMessageReceived', { messageId: 'm1' }, FIRST)),
      event('TurnStarted', { messageId: 'm1' }, FIRST),
    );
    const later = followTrace(started, event('ModelCallCompleted', { callId: 'c1' }, THIRD));
    expect(later).toEqual({ last: THIRD, turn: FIRST, queued: new Map() });
    expect(traceToContinue(later)).toBe(FIRST);
  });
});
