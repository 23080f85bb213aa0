import { describe, expect, it } from 'vitest';
import { createStreamDedupe, dedupeVerdict } from './stream-dedupe.ts';

describe('dedupeVerdict', () => {
  it('applies the next version, skips seen ones and reports gaps', () => {
    expect(dedupeVerdict(0, 1)).toEqual({ kind: 'apply' });
    expect(dedupeVerdict(3, 4)).toEqual({ kind: 'apply' });
    expect(dedupeVerdict(3, 3)).toEqual({ kind: 'duplicate', lastApplied: 3 });
    expect(dedupeVerdict(3, 1)).toEqual({ kind: 'duplicate', lastApplied: 3 });
    expect(dedupeVerdict(3, 6)).toEqual({ kind: 'gap', lastApplied: 3, expected: 4, received: 6 });
  });
});

describe('createStreamDedupe', () => {
  it('applies each (stream, version) once under redelivery', () => {
    const dedupe = createStreamDedupe();
    const applied: string[] = [];
    const deliveries = [1, 2, 1, 2, 3, 3, 4].map((version) => ({ streamId: 's', version }));
    for (const event of deliveries) {
      if (dedupe.verdict(event).kind !== 'apply') continue;
      applied.push(`${event.streamId}@${event.version}`);
      dedupe.applied(event);
    }
    expect(applied).toEqual(['s@1', 's@2', 's@3', 's@4']);
    expect(dedupe.lastApplied('s')).toBe(4);
  });

  it('keeps at most maxStreams streams, forgetting the least recently used', () => {
    const dedupe = createStreamDedupe({ maxStreams: 2 });
    dedupe.applied({ streamId: 'a', version: 1 });
    dedupe.applied({ streamId: 'b', version: 1 });
    dedupe.applied({ streamId: 'a', version: 2 });
    dedupe.applied({ streamId: 'c', version: 1 });
    expect(dedupe.size()).toBe(2);
    expect(dedupe.lastApplied('b')).toBe(0);
    expect(dedupe.verdict({ streamId: 'b', version: 2 })).toEqual({
      kind: 'gap',
      lastApplied: 0,
      expected: 1,
      received: 2,
    });
    expect(dedupe.lastApplied('a')).toBe(2);
  });

  it('never moves a stream backwards and can be seeded', () => {
    const dedupe = createStreamDedupe();
    dedupe.seed('s', 10);
    dedupe.applied({ streamId: 's', version: 4 });
    expect(dedupe.lastApplied('s')).toBe(10);
    expect(dedupe.verdict({ streamId: 's', version: 11 })).toEqual({ kind: 'apply' });
  });
});
