import { expect } from 'vitest';
import type { CommandMetadata, SessionCommand } from '../core/session/session.commands.ts';
import { sessionDecider } from '../core/session/session.decider.ts';
import type { SessionEvent } from '../core/session/session.events.ts';
import type { Session } from '../core/session/session.state.ts';

export type Then = Readonly<{
  then: (expected: readonly SessionEvent[] | ((events: readonly SessionEvent[]) => void)) => void;
  thenNothing: () => void;
  thenThrows: (code: string) => void;
  /** The state after folding the given events and the decided ones. */
  state: () => Session;
}>;

/** given(events…).when(command).then(events) over the session decider (STYLE.md). */
export const given = (...events: readonly SessionEvent[]) => {
  const before = events.reduce(sessionDecider.evolve, sessionDecider.initialState());
  return {
    state: before,
    when: (command: SessionCommand): Then => {
      const run = (): readonly SessionEvent[] => sessionDecider.decide(command, before);
      return {
        then: (expected) => {
          const decided = run();
          if (typeof expected === 'function') expected(decided);
          else expect(decided).toEqual(expected);
        },
        thenNothing: () => expect(run()).toEqual([]),
        thenThrows: (code) => expect(run).toThrow(expect.objectContaining({ code }) as unknown as Error),
        state: () => run().reduce(sessionDecider.evolve, before),
      };
    },
  };
};

let counter = 0;
/** Command metadata at a fixed clock (tests never read the real clock). */
export const meta = (now = '2026-01-01T00:00:00.000Z'): CommandMetadata => {
  counter += 1;
  return { commandId: `cmd-${counter}`, correlationId: 'corr', now: new Date(now) };
};
