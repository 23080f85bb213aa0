/**
 * Where a cached session's stream is snapshotted. A snapshot holds the whole state, and the state
 * grows with the conversation (its transcript), so a fixed interval writes bytes per event that grow
 * with the history. The interval therefore doubles as the stream grows: `every` events up to
 * 8 × `every`, then the largest `every` × 2^k not above a quarter of the stream. A snapshot's bytes
 * per event stay about constant, and a cold load folds at most a quarter of the stream past its
 * snapshot (each event in O(1): `foldingEvolve`).
 */
export const snapshotInterval = (version: number, every: number): number => {
  let interval = every;
  while (interval > 0 && interval * 8 <= version) interval *= 2;
  return interval;
};

/** Whether an append that took the stream from version `from` to `to` passed a snapshot point. */
export const crossesSnapshotPoint = (from: number, to: number, every: number): boolean => {
  if (every <= 0) return false;
  for (let version = from + 1; version <= to; version += 1)
    if (version % snapshotInterval(version, every) === 0) return true;
  return false;
};
