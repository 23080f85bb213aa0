import type { EventEnvelope } from '../envelope.ts';
import type { AppendResult, EventStore, Page, ReadAllOptions } from '../store.ts';

export type AppendedFeed = Readonly<{
  /**
   * Keeps what an append of this process stored, when the adapter returned it (`events`: appends
   * with a declared projection, which is every append of the session engine); call it from the
   * store's `onCommit`, which hands over each own append as it commits.
   */
  record: (result: AppendResult) => void;
  /**
   * Another process committed (the store's `onCommit` without a result): its positions are not
   * recorded, so the next read goes to the store. Call it before waking the relay.
   */
  foreign: () => void;
  /**
   * The log after `after` (the relay's read): from memory when what was recorded holds every
   * position from `after + 1` on, up to the first position it does not hold; from the store
   * otherwise (another process' commit, an append that returned no events, a position taken by a
   * rolled-back append, a start, events dropped past `maxEvents`), and always after another process
   * committed: memory holds a run of this process' positions, which may end right before that
   * commit's, and a read from memory would then stop short while the relay takes the wake the
   * commit sent as answered. A page from the store carries its `committedHead` where the store
   * can hold events back (`EventStore.readPage`); one from memory never stops short of a commit.
   */
  readPage: (options?: Omit<ReadAllOptions, 'tenantId'>) => Promise<Page>;
}>;

/**
 * What this process appended, kept for its outbox relay so that it does not read back what it has
 * just written. Recorded events are committed, and positions are unique, so a run of recorded
 * positions that starts right after `after` is exactly the log there, whoever else writes to the
 * store: a position another process holds (committed or still in flight) is not recorded, so the
 * run stops before it and the relay reads the store there, with its guard for late commits.
 * Recorded events leave once a read passes them.
 */
export const createAppendedFeed = (
  store: Pick<EventStore, 'readPage'>,
  { maxEvents = 10_000 }: Readonly<{ maxEvents?: number }> = {},
): AppendedFeed => {
  // Recorded events by ascending position (appends settle in commit order, nearly always).
  let kept: EventEnvelope[] = [];
  // Another process committed since the last read of the store.
  let foreign = false;
  return {
    record: (result) => {
      if (result.duplicate || result.events === undefined) return;
      for (const event of result.events) {
        let at = kept.length;
        while (at > 0 && kept[at - 1]!.globalPosition > event.globalPosition) at -= 1;
        kept.splice(at, 0, event);
      }
      if (kept.length > maxEvents) kept = kept.slice(kept.length - maxEvents);
    },
    foreign: () => {
      foreign = true;
    },
    readPage: async (options = {}) => {
      const { after = 0, limit } = options;
      // What the reader has passed leaves (a copy only when something does).
      const passed = kept.findIndex((event) => event.globalPosition > after);
      if (passed !== 0) kept = passed < 0 ? [] : kept.slice(passed);
      let run = 0;
      while (run < kept.length && kept[run]!.globalPosition === after + run + 1) run += 1;
      if (run === 0 || foreign) {
        // Cleared before the read: a commit during it is not covered by it.
        foreign = false;
        return store.readPage(options);
      }
      return { events: kept.slice(0, limit === undefined ? run : Math.min(run, limit)) };
    },
  };
};

/**
 * Feeds a relay from the store's commits (`onCommit`), as every orchestrator runtime does: this
 * process' appends are recorded while the relay leads (a standby keeps nothing), another process'
 * commit sends the next read to the store, and every commit wakes the relay. Returns the unwatch.
 */
export const feedRelayOnCommit = (
  store: Pick<EventStore, 'onCommit'>,
  feed: AppendedFeed,
  relay: Readonly<{ status: () => Readonly<{ leader: boolean }>; wake: () => void }>,
): (() => void) =>
  store.onCommit((own) => {
    if (own === undefined) feed.foreign();
    else if (relay.status().leader) feed.record(own);
    relay.wake();
  });
