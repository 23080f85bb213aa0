import type { SessionCommand } from './session.commands.ts';
import { decide } from './session.decide.ts';
import type { SessionEvent } from './session.events.ts';
import { evolve, foldingEvolve } from './session.evolve.ts';
import { initialSession, type Session } from './session.state.ts';

export type Decider<S, C, E> = Readonly<{
  decide: (command: C, state: S) => readonly E[];
  evolve: (state: S, event: E) => S;
  initialState: () => S;
}>;

/** The session as a decider: the only writer of meaning, pure and deterministic. */
export const sessionDecider: Decider<Session, SessionCommand, SessionEvent> = {
  decide,
  evolve,
  initialState: initialSession,
};

/** `events.reduce(evolve, from)`, in one copy of the transcript (`foldingEvolve`); `from` is unchanged. */
export const foldSession = (events: readonly SessionEvent[], from: Session = initialSession()): Session =>
  events.reduce(foldingEvolve(), from);
