/**
 * Folded sessions kept in memory, least recently used out first, bounded by their estimated size
 * in bytes rather than by count: one session with a long history weighs as much as many short ones.
 */
export type SessionCache<V> = Readonly<{
  get: (key: string) => Readonly<{ value: V; bytes: number }> | undefined;
  /** Keeps `value` as most recently used; an entry larger than the whole budget is not kept. */
  set: (key: string, value: V, bytes: number) => void;
  delete: (key: string) => boolean;
  /** The estimated bytes held and the number of entries (for metrics and tests). */
  usage: () => Readonly<{ bytes: number; entries: number }>;
}>;

export const createSessionCache = <V>(maxBytes: number): SessionCache<V> => {
  if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be >= 0, got ${maxBytes}`);
  const entries = new Map<string, { value: V; bytes: number }>();
  let total = 0;
  const remove = (key: string): boolean => {
    const entry = entries.get(key);
    if (entry === undefined) return false;
    entries.delete(key);
    total -= entry.bytes;
    return true;
  };
  return {
    get: (key) => {
      const entry = entries.get(key);
      if (entry !== undefined) {
        entries.delete(key);
        entries.set(key, entry); // now the most recently used
      }
      return entry;
    },
    set: (key, value, bytes) => {
      remove(key);
      if (bytes > maxBytes) return;
      entries.set(key, { value, bytes });
      total += bytes;
      for (const oldest of entries.keys()) {
        if (total <= maxBytes) break;
        remove(oldest);
      }
    },
    delete: remove,
    usage: () => ({ bytes: total, entries: entries.size }),
  };
};

/** A value's size estimate: its JSON text as UTF-16 (two bytes a character). */
export const estimatedBytes = (value: unknown): number => 2 * (JSON.stringify(value)?.length ?? 0);
