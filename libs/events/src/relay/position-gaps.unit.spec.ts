import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../envelope.ts';
import { gaplessPrefix } from './position-gaps.ts';

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
});
