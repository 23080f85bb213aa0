import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decide, evolve, initialSession, type Session, type SessionCommand } from '@agentledger/agents';
import { spec } from '@agentledger/agents/testing';
import { createDeadlineTimers, type DeadlineTimers } from './deadline-timers.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const ref = { tenantId: 'tenant', sessionId: 's1' };

/** A session whose first turn started at T0 with a 3 s turn timeout (its model call is out). */
const waiting = (turnTimeoutSeconds?: number): Session => {
  const team = spec({
    type: 'single',
    agents: [{ name: 'a' }],
    ...(turnTimeoutSeconds === undefined ? {} : { limits: { turnTimeoutSeconds } }),
  });
  const metadata = { commandId: 'c', correlationId: 'c', now: new Date(T0) };
  const commands: SessionCommand[] = [
    { type: 'StartSession', data: { ...ref, teamId: 'team', spec: team }, metadata },
    { type: 'PostUserMessage', data: { messageId: 'm1', content: 'Hi' }, metadata },
  ];
  return commands.reduce((state, command) => decide(command, state).reduce(evolve, state), initialSession());
};

describe('deadline timers', () => {
  let now = T0;
  const fired: string[] = [];
  let timers: DeadlineTimers;

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    now = T0;
    fired.length = 0;
    timers = createDeadlineTimers({
      clock: () => new Date(now),
      fire: (r) => {
        fired.push(r.sessionId);
        return Promise.resolve();
      },
      onError: (id, error) => {
        throw new Error(`${id}: ${String(error)}`);
      },
    });
  });
  afterEach(() => {
    timers.stop();
    vi.useRealTimers();
  });

  it('arms one timer for the turn deadline and fires it then, not before', () => {
    timers.watch(ref, waiting(3));
    timers.watch(ref, waiting(3));
    expect(timers.armed()).toBe(1);
    now = T0 + 2_999;
    vi.advanceTimersByTime(2_999);
    expect(fired).toEqual([]);
    now = T0 + 3_000;
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['s1']);
    expect(timers.armed()).toBe(0);
  });

  it('a session without a deadline (or none at all) disarms its timer', () => {
    timers.watch(ref, waiting(3));
    timers.watch(ref, waiting());
    expect(timers.armed()).toBe(0);
    timers.watch(ref, waiting(3));
    timers.watch(ref, undefined);
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual([]);
  });

  it('check fires at once when the deadline passed while nobody held the session (a restart)', async () => {
    now = T0 + 5_000;
    await timers.check(ref, waiting(3));
    expect(fired).toEqual(['s1']);
    now = T0;
    await timers.check(ref, waiting(3));
    expect(fired).toEqual(['s1']);
    expect(timers.armed()).toBe(1);
  });
});
