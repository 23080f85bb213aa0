/**
 * When a reader of the log (the outbox relay, a subscription) saves its checkpoint: the position
 * it has handled up to is saved at most once every `everyMs` (0: each time it moves), and whatever
 * is still unsaved when it stops. What was handled since the last save is handed over again after a
 * crash (at least once, as always).
 */
export type CheckpointPacer = Readonly<{
  /** The reader has handled up to `position`. */
  moved: (position: number) => void;
  /** The position to save now, marked saved: when one is unsaved and due (`force`: due or not). */
  take: (force?: boolean) => number | undefined;
  /** Milliseconds until an unsaved position is due (0: now; Infinity: nothing unsaved). */
  untilDue: () => number;
  /** Forgets the unsaved position (the reader lost the right to save it). */
  drop: () => void;
}>;

export const createCheckpointPacer = (everyMs: number, now: () => number): CheckpointPacer => {
  let unsaved: number | undefined;
  let savedAt = Number.NEGATIVE_INFINITY;
  const untilDue = (): number => (unsaved === undefined ? Infinity : Math.max(0, savedAt + everyMs - now()));
  return {
    moved: (position) => {
      unsaved = position;
    },
    take: (force = false) => {
      if (unsaved === undefined || (!force && untilDue() > 0)) return undefined;
      const position = unsaved;
      unsaved = undefined;
      savedAt = now();
      return position;
    },
    untilDue,
    drop: () => {
      unsaved = undefined;
    },
  };
};
