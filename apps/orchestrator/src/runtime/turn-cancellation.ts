import { TurnAborted } from '@agentledger/agents';

/**
 * The sessions this replica is stepping, so a `TurnCancelled` seen on the bus aborts the in-flight
 * model or tool call of that turn here (the owner), whichever process recorded the cancel. A
 * cancel of a turn no effect has started yet is kept, and aborts the first effect of that turn.
 */
export type TurnCancellation = Readonly<{
  /** A worker starts stepping `key`: its effects use `signal`. `close` when the step ends. */
  open: (key: string) => Readonly<{ signal: AbortSignal; close: () => void }>;
  /** An effect of `turnId` starts on `key` (aborted at once when that turn is already cancelled). */
  working: (key: string, turnId: string) => void;
  /** `TurnCancelled{turnId}` was recorded for `key`. */
  cancel: (key: string, turnId: string) => void;
}>;

type Entry = { controller: AbortController; turnId?: string; cancelled?: string };

export const createTurnCancellation = (): TurnCancellation => {
  const running = new Map<string, Entry>();
  const abort = (entry: Entry, turnId: string): void => {
    if (!entry.controller.signal.aborted) entry.controller.abort(new TurnAborted(turnId));
  };
  return {
    open: (key) => {
      const entry: Entry = { controller: new AbortController() };
      running.set(key, entry);
      return {
        signal: entry.controller.signal,
        close: () => {
          if (running.get(key) === entry) running.delete(key);
        },
      };
    },
    working: (key, turnId) => {
      const entry = running.get(key);
      if (!entry) return;
      entry.turnId = turnId;
      if (entry.cancelled === turnId) abort(entry, turnId);
    },
    cancel: (key, turnId) => {
      const entry = running.get(key);
      if (!entry) return;
      entry.cancelled = turnId;
      if (entry.turnId === turnId) abort(entry, turnId);
    },
  };
};
