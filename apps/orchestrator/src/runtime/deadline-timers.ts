import { nextDeadline, type Session } from '@agentledger/agents';
import { sessionStreamId } from '@agentledger/events';
import type { SessionRef } from '@agentledger/sessions';

/**
 * One timer per session this replica steps, for the session's nearest deadline (its turn timeout,
 * an approval's deadline). The deadline is derived from the session's events (`nextDeadline`), so
 * whichever replica loads the session next (after a restart, a lease expiry, a rebalance) arms the
 * same one, and fires at once when it has passed already.
 */
export type DeadlineTimers = Readonly<{
  /** Arms the timer of the session for `state`'s nearest deadline (replacing another), or disarms it. */
  watch: (ref: SessionRef, state: Session | undefined) => void;
  /**
   * Fires now when `state`'s deadline has passed (before a step starts any work), else arms it.
   * True when it fired (the session changed since `state`).
   */
  check: (ref: SessionRef, state: Session | undefined) => Promise<boolean>;
  /** Timers armed now. */
  armed: () => number;
  stop: () => void;
}>;

export type DeadlineTimersDeps = Readonly<{
  /** The clock of command metadata: deadlines are compared against it. */
  clock: () => Date;
  /** Sends `CheckTimeout` for the session (and re-arms from the state it returns). */
  fire: (ref: SessionRef) => Promise<void>;
  onError: (sessionId: string, error: unknown) => void;
}>;

/** setTimeout's largest delay; a later deadline fires early, decides nothing and re-arms. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export const createDeadlineTimers = (deps: DeadlineTimersDeps): DeadlineTimers => {
  const timers = new Map<string, Readonly<{ at: string; timer: NodeJS.Timeout }>>();
  let stopped = false;

  const disarm = (key: string): void => {
    const current = timers.get(key);
    if (current) clearTimeout(current.timer);
    timers.delete(key);
  };

  const watch = (ref: SessionRef, state: Session | undefined): void => {
    const key = sessionStreamId(ref.tenantId, ref.sessionId);
    const at = state ? nextDeadline(state) : null;
    if (timers.get(key)?.at === at) return;
    disarm(key);
    if (at === null || stopped) return;
    const delayMs = Math.min(MAX_DELAY_MS, Math.max(0, Date.parse(at) - deps.clock().getTime()));
    const timer = setTimeout(() => {
      if (timers.get(key)?.timer === timer) timers.delete(key);
      deps.fire(ref).catch((error: unknown) => deps.onError(ref.sessionId, error));
    }, delayMs);
    timers.set(key, { at, timer });
  };

  return {
    watch,
    check: async (ref, state) => {
      const at = state ? nextDeadline(state) : null;
      if (at !== null && Date.parse(at) <= deps.clock().getTime()) {
        await deps.fire(ref);
        return true;
      }
      watch(ref, state);
      return false;
    },
    armed: () => timers.size,
    stop: () => {
      stopped = true;
      for (const key of [...timers.keys()]) disarm(key);
    },
  };
};
