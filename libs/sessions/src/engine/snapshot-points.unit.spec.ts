import { describe, expect, it } from 'vitest';
import { crossesSnapshotPoint, snapshotInterval } from './snapshot-points.ts';

const pointsUpTo = (last: number, every: number): number[] => {
  const points: number[] = [];
  for (let version = 1; version <= last; version += 1)
    if (crossesSnapshotPoint(version - 1, version, every)) points.push(version);
  return points;
};

describe('snapshot points', () => {
  it('come every `every` events up to 8 × every, then at an interval that doubles with the stream', () => {
    expect(pointsUpTo(7_400, 200)).toEqual([
      200, 400, 600, 800, 1_000, 1_200, 1_400, 1_600, 2_000, 2_400, 2_800, 3_200, 4_000, 4_800, 5_600, 6_400,
    ]);
  });

  it('never leave more than a quarter of a stream past 8 × every after its snapshot', () => {
    const outside: number[] = [];
    for (let version = 1_600; version <= 100_000; version += 1) {
      const interval = snapshotInterval(version, 200);
      if (interval > version / 4 || interval <= version / 16) outside.push(version);
    }
    expect(outside).toEqual([]);
  });

  it('are crossed by an append of several events that passes one, and not by one that passes none', () => {
    expect(crossesSnapshotPoint(195, 205, 200)).toBe(true);
    expect(crossesSnapshotPoint(1_601, 1_999, 200)).toBe(false);
    expect(crossesSnapshotPoint(1_601, 2_000, 200)).toBe(true);
    expect(crossesSnapshotPoint(200, 200, 200)).toBe(false);
  });

  it('are none when snapshots are off', () => {
    expect(crossesSnapshotPoint(0, 10_000, 0)).toBe(false);
    expect(snapshotInterval(10_000, 0)).toBe(0);
  });
});
