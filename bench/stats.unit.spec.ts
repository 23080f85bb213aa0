import { describe, expect, it } from 'vitest';
import {
  coveredPartitions,
  growth,
  busyPercent,
  machineCeiling,
  ownedPartitions,
  ownershipGap,
  parseProcStatus,
  percentile,
  scaleTable,
  scaleTargets,
  settledOwnership,
  slowTurnsSettleMs,
  spreadOf,
  spreadsOf,
  summarize,
  type OwnershipSample,
  type ScaleRun,
} from './stats.ts';

describe('percentile (nearest rank)', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);

  it('picks the value at the rank, not the one after it', () => {
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7, 9], 50)).toBe(7);
  });

  it('is 0 without values and the only value for one', () => {
    expect(percentile([], 99)).toBe(0);
    expect(percentile([42], 1)).toBe(42);
  });

  it('summarizes unsorted latencies', () => {
    expect(summarize([30, 10, 20])).toEqual({ count: 3, p50Ms: 20, p99Ms: 30, maxMs: 30 });
  });
});

describe('spread of a figure over rounds', () => {
  it('is the median and the range, the median of an even count the mean of the middle two', () => {
    expect(spreadOf([0.71, 0.55, 0.84])).toEqual({ median: 0.71, min: 0.55, max: 0.84, rounds: 3 });
    expect(spreadOf([0.6, 0.9, 0.5, 0.7])).toEqual({ median: 0.65, min: 0.5, max: 0.9, rounds: 4 });
    expect(spreadOf([1.2])).toEqual({ median: 1.2, min: 1.2, max: 1.2, rounds: 1 });
  });

  it('leaves out the rounds without the figure, and is null when none has it', () => {
    expect(spreadOf([null, 0.4, 0.2])).toEqual({ median: 0.3, min: 0.2, max: 0.4, rounds: 2 });
    expect(spreadOf([null, null])).toBeNull();
    expect(spreadOf([])).toBeNull();
  });

  it('spreads each named figure of the rounds', () => {
    const rounds = [
      { a: 0.5, b: null },
      { a: 0.7, b: null },
      { a: 0.6, b: null },
    ];
    expect(spreadsOf(rounds, ['a', 'b'])).toEqual({
      a: { median: 0.6, min: 0.5, max: 0.7, rounds: 3 },
      b: null,
    });
  });
});

const sample = (at: number, owned: Record<string, number[]>): OwnershipSample => ({ at, owned });
const all = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('ownership of partitions', () => {
  it('is settled when the members split every partition once and each owns some', () => {
    expect(settledOwnership(sample(0, { a: all(0, 6), b: all(6, 12) }), 12, ['a', 'b'])).toBe(true);
    expect(settledOwnership(sample(0, { a: all(0, 12), b: [] }), 12, ['a', 'b'])).toBe(false);
    expect(settledOwnership(sample(0, { a: all(0, 7), b: all(6, 12) }), 12, ['a', 'b'])).toBe(false);
    expect(settledOwnership(sample(0, { a: all(0, 6), b: all(6, 11) }), 12, ['a', 'b'])).toBe(false);
    // A replica that left but still reports partitions is not settled.
    expect(settledOwnership(sample(0, { a: all(0, 6), b: all(6, 12), c: [1] }), 12, ['a', 'b'])).toBe(false);
    expect(coveredPartitions(sample(0, { a: [1, 2], b: [2, 3] }))).toBe(3);
  });

  it('measures the uncovered time and the time until ownership settles on the new members', () => {
    const samples = [
      sample(900, { a: all(0, 6), b: all(6, 12) }),
      sample(1_000, { a: all(0, 6), b: all(6, 12) }), // c is spawned at 1 000
      sample(1_100, { a: [], b: [], c: [] }), // everything revoked
      sample(1_400, { a: all(0, 4), b: [], c: [] }),
      sample(1_500, { a: all(0, 4), b: all(4, 8), c: all(8, 12) }),
      sample(1_600, { a: all(0, 4), b: all(4, 8), c: all(8, 12) }),
    ];
    expect(ownershipGap(samples, 1_000, 12, ['a', 'b', 'c'])).toEqual({ settledMs: 500, uncoveredMs: 400 });
  });

  it('reports no settling when ownership never settles, and no gap when nothing was uncovered', () => {
    const samples = [sample(0, { a: all(0, 12) }), sample(100, { a: all(0, 12) })];
    expect(ownershipGap(samples, 0, 12, ['a', 'b'])).toEqual({ settledMs: null, uncoveredMs: 0 });
    expect(ownershipGap(samples, 0, 12, ['a'])).toEqual({ settledMs: 0, uncoveredMs: 0 });
  });

  it('reads the owned partitions from a metrics page', () => {
    const page = [
      '# HELP agentledger_partitions_owned …',
      'agentledger_partitions_owned{partition="3"} 1',
      'agentledger_partitions_owned{partition="11"} 1',
      'agentledger_consumer_lag_offsets{partition="4"} 1',
    ].join('\n');
    expect(ownedPartitions(page)).toEqual([3, 11]);
  });
});

describe('slow turns after a membership change', () => {
  const turns = [
    { startedAt: 0, endedAt: 900 }, // slow, but ended before the change
    { startedAt: 950, endedAt: 1_100 }, // in flight at the change, fast
    { startedAt: 990, endedAt: 3_000 }, // in flight, slow
    { startedAt: 2_000, endedAt: 2_600 }, // after, slow, ends earlier
    { startedAt: 3_500, endedAt: 3_700 }, // after, fast
  ];

  it('is the end of the last turn slower than the threshold that ran at or after the change', () => {
    expect(slowTurnsSettleMs(turns, 1_000, 500)).toBe(2_000);
  });

  it('is 0 when no turn was slow', () => {
    expect(slowTurnsSettleMs(turns, 1_000, 5_000)).toBe(0);
  });
});

describe('the scaling table', () => {
  const run = (replicas: number, latencyMs: number, turnsPerSecond: number, p99Ms = 500): ScaleRun => ({
    client: 'kafkajs',
    replicas,
    latencyMs,
    turnsPerSecond,
    p50Ms: 400,
    p99Ms,
    modelCallsPerTurn: 2,
  });

  it('divides by the same client and latency with one replica', () => {
    const rows = scaleTable([run(1, 200, 40), run(3, 200, 110, 700), run(1, 0, 100), run(2, 0, 150)]);
    expect(rows.map((row) => row.speedup)).toEqual([1, 2.75, 1, 1.5]);
    expect(rows.map((row) => row.p99OverModelTime)).toEqual([1.25, 1.75, null, null]);
    expect(rows[1]!.p99OverP50).toBe(1.75);
    expect(rows.map(scaleTargets)).toEqual([
      { speedupMet: null, p99Met: true },
      { speedupMet: true, p99Met: false },
      { speedupMet: null, p99Met: null },
      { speedupMet: null, p99Met: null },
    ]);
  });

  it('has no speedup without a one-replica baseline', () => {
    expect(scaleTable([run(2, 200, 80)])[0]!.speedup).toBeNull();
    expect(scaleTargets(scaleTable([run(2, 200, 60), run(1, 200, 40)])[0]!).speedupMet).toBe(false);
  });
});

describe('the machine CPU ceiling', () => {
  it('is the cores over what the whole machine spent per turn', () => {
    // 2 cores busy for 6 s (1,200 jiffies of 10 ms) over 256 turns: 46.9 ms a turn, 42.7 turns/s at most.
    expect(machineCeiling(1_200, 256, 2)).toEqual({ machineCpuMsPerTurn: 46.9, ceilingTurnsPerSecond: 42.7 });
    expect(machineCeiling(500, 100, 4)).toEqual({ machineCpuMsPerTurn: 50, ceilingTurnsPerSecond: 80 });
  });

  it('is unknown without turns or busy time', () => {
    expect(machineCeiling(100, 0, 2)).toBeNull();
    expect(machineCeiling(0, 10, 2)).toBeNull();
  });
});

describe('growth along a history', () => {
  it('is last over first', () => {
    expect(growth([10, 12, 20])).toBe(2);
    expect(growth([10])).toBeNull();
    expect(growth([0, 5])).toBeNull();
  });

  it('reads resident and peak memory from /proc/<pid>/status', () => {
    const status = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n';
    expect(parseProcStatus(status)).toEqual({ rssBytes: 100 * 1024 * 1024, hwmBytes: 200 * 1024 * 1024 });
  });

  it('gives the busy share of the machine between two samples, and 0 over no time', () => {
    expect(busyPercent({ busy: 100, total: 400 }, { busy: 250, total: 600 })).toBe(75);
    expect(busyPercent({ busy: 100, total: 400 }, { busy: 100, total: 400 })).toBe(0);
  });
});
