import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EventEnvelope } from '../envelope.ts';
import {
  createPostgresGapResolver,
  gaplessPrefix,
  immediateGapResolver,
  timedGapResolver,
} from './position-gaps.ts';

const at = (...positions: number[]) =>
  positions.map((globalPosition) => ({ globalPosition }) as EventEnvelope);
const positions = (result: { events: readonly EventEnvelope[] }) =>
  result.events.map((e) => e.globalPosition);

describe('gaplessPrefix', () => {
  it('passes a gapless batch through', () => {
    expect(gaplessPrefix(at(4, 5, 6), 3, 3)).toMatchObject({ open: false, skipped: 0 });
  });

  it('stops before a gap that may still fill, at the start or inside the batch', () => {
    expect(positions(gaplessPrefix(at(5, 6), 3, 3))).toEqual([]);
    const cut = gaplessPrefix(at(4, 5, 7, 8), 3, 3);
    expect(positions(cut)).toEqual([4, 5]);
    expect(cut.open).toBe(true);
  });

  it('skips gaps settled up to a position, and stops at a later unsettled one', () => {
    const result = gaplessPrefix(at(5, 7, 10), 3, 7);
    expect(positions(result)).toEqual([5, 7]);
    expect(result).toMatchObject({ open: true, skipped: 2 });
  });

  it('skips a gap whose last missing position is exactly the settled one', () => {
    const result = gaplessPrefix(at(5, 6), 3, 4);
    expect(positions(result)).toEqual([5, 6]);
    expect(result).toMatchObject({ open: false, skipped: 1 });
  });
});

describe('gap resolvers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('immediate: every gap is settled at once', async () => {
    expect(await immediateGapResolver.settled(await immediateGapResolver.mark())).toBe(true);
  });

  it('timed: a gap is settled once it has been open for the given time, not before', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: 1_000_000 });
    const resolver = timedGapResolver(500);
    const mark = await resolver.mark();
    vi.setSystemTime(1_000_499);
    expect(await resolver.settled(mark)).toBe(false);
    vi.setSystemTime(1_000_500);
    expect(await resolver.settled(mark)).toBe(true);
  });

  it('postgres: marks with a fresh transaction id and asks whether every older one has ended', async () => {
    const queries: [string, unknown[] | undefined][] = [];
    const resolver = createPostgresGapResolver(async (text, values) => {
      queries.push([text, values]);
      return {
        rows: [text.includes('pg_current_xact_id()') ? { mark: '42' } : { settled: values?.[0] === '42' }],
      };
    });
    const mark = await resolver.mark();
    expect(mark).toBe('42');
    expect(await resolver.settled(mark)).toBe(true);
    expect(await resolver.settled('43')).toBe(false);
    expect(queries[0]).toEqual(['select pg_current_xact_id()::text as mark', undefined]);
    expect(queries[1]).toEqual(['select agentledger_safe_xid8() > $1::xid8 as settled', ['42']]);
  });
});
