import type { EventEnvelope } from '../envelope.ts';
import type { AppendResult, EventStore, ReadAllOptions } from '../store.ts';

export type AppendedFeed = Readonly<{
  /**
   * `store` with its `append` recording what it stored, when the adapter returns it (`events`:
   * appends with a declared projection, which is every append of the session engine).
   */
  recording: <S extends Pick<EventStore, 'append'>>(store: S) => S;
  /**
   * The log after `after`, as `readAll` (the relay's read): from memory when what was recorded
   * holds every position from `after + 1` on, up to the first position it does not hold; from the
   * store otherwise (an append that returned no events, a position taken by a rolled-back append,
   * a start, events dropped past `maxEvents`).
   */
  readAll: (options?: ReadAllOptions) => Promise<readonly EventEnvelope[]>;
}>;

/**
 * What this process appended, kept for its outbox relay so that it does not read back what it has
 * just written. Only for a store this process alone writes (the embedded product: its data
 * directory is locked to it), where every committed position is either recorded here or read from
 * the store: positions are unique, so a run of recorded positions starting right after `after`
 * is exactly the log there. Recorded events leave once a read passes them.
 */
export const createAppendedFeed = (
  store: Pick<EventStore, 'readAll'>,
  { maxEvents = 10_000 }: Readonly<{ maxEvents?: number }> = {},
): AppendedFeed => {
  // Recorded events by ascending position (appends settle in commit order, nearly always).
  let kept: EventEnvelope[] = [];
  const record = (events: readonly EventEnvelope[]): void => {
    for (const event of events) {
      let at = kept.length;
      while (at > 0 && kept[at - 1]!.globalPosition > event.globalPosition) at -= 1;
      kept.splice(at, 0, event);
    }
    if (kept.length > maxEvents) kept = kept.slice(kept.length - maxEvents);
  };
  const recording = <S extends Pick<EventStore, 'append'>>(inner: S): S => {
    const append = async (...args: Parameters<EventStore['append']>): Promise<AppendResult> => {
      const result = await (inner.append as EventStore['append'])(...args);
      if (!result.duplicate && result.events !== undefined) record(result.events);
      return result;
    };
    return { ...inner, append: append as S['append'] };
  };
  return {
    recording,
    readAll: async (options = {}) => {
      const { after = 0, limit, tenantId } = options;
      if (tenantId !== undefined) return store.readAll(options);
      // What the reader has passed leaves (a copy only when something does).
      const passed = kept.findIndex((event) => event.globalPosition > after);
      if (passed !== 0) kept = passed < 0 ? [] : kept.slice(passed);
      let run = 0;
      while (run < kept.length && kept[run]!.globalPosition === after + run + 1) run += 1;
      if (run === 0) return store.readAll(options);
      return kept.slice(0, limit === undefined ? run : Math.min(run, limit));
    },
  };
};
