import type { EventEnvelope } from '../envelope.ts';

/** What a consumer should do with an envelope, given the last version it applied for the stream. */
export type DedupeVerdict =
  | Readonly<{ kind: 'apply' }>
  | Readonly<{ kind: 'duplicate'; lastApplied: number }>
  /** Versions between `lastApplied` and `received` were never applied: catch up from the store. */
  | Readonly<{ kind: 'gap'; lastApplied: number; expected: number; received: number }>;

/** Pure decision: `lastApplied` is 0 for a stream never applied. */
export const dedupeVerdict = (lastApplied: number, version: number): DedupeVerdict => {
  if (version <= lastApplied) return { kind: 'duplicate', lastApplied };
  if (version === lastApplied + 1) return { kind: 'apply' };
  return { kind: 'gap', lastApplied, expected: lastApplied + 1, received: version };
};

type StreamPosition = Pick<EventEnvelope, 'streamId' | 'version'>;

/**
 * Consumer-side dedupe by (streamId, version) for at-least-once delivery: remembers the highest
 * applied version per stream, at most `maxStreams` streams (least recently used forgotten first).
 * A forgotten stream reads as never applied, so its next event is reported as a gap, never applied
 * twice: the caller then reloads its position (`seed`) from its own state or the store.
 */
export type StreamDedupe = Readonly<{
  verdict: (event: StreamPosition) => DedupeVerdict;
  /** Records that the consumer applied this event (call after applying, not before). */
  applied: (event: StreamPosition) => void;
  /** Sets the last applied version of a stream, e.g. from a read model on start-up. */
  seed: (streamId: string, version: number) => void;
  lastApplied: (streamId: string) => number;
  forget: (streamId: string) => void;
  size: () => number;
}>;

export const createStreamDedupe = (options: Readonly<{ maxStreams?: number }> = {}): StreamDedupe => {
  const maxStreams = options.maxStreams ?? 100_000;
  const last = new Map<string, number>();
  const lastApplied = (streamId: string): number => last.get(streamId) ?? 0;
  const seed = (streamId: string, version: number): void => {
    last.delete(streamId);
    last.set(streamId, version);
    if (last.size > maxStreams) last.delete(last.keys().next().value as string);
  };
  return {
    verdict: ({ streamId, version }) => dedupeVerdict(lastApplied(streamId), version),
    applied: ({ streamId, version }) => seed(streamId, Math.max(version, lastApplied(streamId))),
    seed,
    lastApplied,
    forget: (streamId) => void last.delete(streamId),
    size: () => last.size,
  };
};
