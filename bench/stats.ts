/**
 * The pure calculations of the benchmarks (no I/O): percentiles, the partition-ownership gap of a
 * rebalance, the time until turns are as fast as before it, the scaling table against the same
 * run's one-replica baseline, and growth along a long session's history.
 */

/** Nearest-rank percentile of ascending `sorted` (0 for none). */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0);

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/** One figure over repeated rounds of a benchmark: its median and the range the rounds spanned. */
export type Spread = Readonly<{ median: number; min: number; max: number; rounds: number }>;

/**
 * The spread of one figure over rounds; rounds without it (null: a scenario not run) are left
 * out, and null when none has it. The median of an even count is the mean of the middle two.
 */
export const spreadOf = (values: readonly (number | null)[]): Spread | null => {
  const sorted = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median: round(median), min: sorted[0]!, max: sorted.at(-1)!, rounds: sorted.length };
};

/** Each numeric figure of same-shaped rounds (`{ key: number | null }`) as its {@link Spread}. */
export const spreadsOf = <K extends string>(
  rounds: readonly Readonly<Record<K, number | null>>[],
  keys: readonly K[],
): Record<K, Spread | null> =>
  Object.fromEntries(keys.map((key) => [key, spreadOf(rounds.map((r) => r[key]))])) as Record<
    K,
    Spread | null
  >;

export type LatencySummary = Readonly<{ count: number; p50Ms: number; p99Ms: number; maxMs: number }>;

export const summarize = (latencies: readonly number[]): LatencySummary => {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? 0),
  };
};

/** What every replica reported owning at one moment (a replica that did not answer owns nothing). */
export type OwnershipSample = Readonly<{ at: number; owned: Readonly<Record<string, readonly number[]>> }>;

/** Every partition owned by exactly one of `members`, each of which owns at least one. */
export const settledOwnership = (
  sample: OwnershipSample,
  partitions: number,
  members: readonly string[],
): boolean => {
  const all = members.flatMap((member) => sample.owned[member] ?? []);
  const others = Object.entries(sample.owned).some(
    ([member, owned]) => !members.includes(member) && owned.length > 0,
  );
  return (
    !others &&
    all.length === partitions &&
    new Set(all).size === partitions &&
    members.every((member) => (sample.owned[member]?.length ?? 0) > 0)
  );
};

/** Distinct partitions some replica owns. */
export const coveredPartitions = (sample: OwnershipSample): number =>
  new Set(Object.values(sample.owned).flat()).size;

export type OwnershipGap = Readonly<{
  /** From `from` until the first sample after which ownership stayed settled on `members`; null if never. */
  settledMs: number | null;
  /** Time after `from` during which some partition had no owner (sample to next sample). */
  uncoveredMs: number;
}>;

/**
 * The ownership gap of one membership change at `from`: samples (ascending by `at`) of what each
 * replica owned. A partition nobody owns is nobody's to consume: that time is the gap.
 */
export const ownershipGap = (
  samples: readonly OwnershipSample[],
  from: number,
  partitions: number,
  members: readonly string[],
): OwnershipGap => {
  const after = samples.filter((sample) => sample.at >= from);
  let uncoveredMs = 0;
  for (let i = 0; i + 1 < after.length; i += 1)
    if (coveredPartitions(after[i]!) < partitions) uncoveredMs += after[i + 1]!.at - after[i]!.at;
  const lastUnsettled = after.findLastIndex((sample) => !settledOwnership(sample, partitions, members));
  const settled = after[lastUnsettled + 1];
  return { settledMs: settled === undefined ? null : settled.at - from, uncoveredMs };
};

export type TimedTurn = Readonly<{ startedAt: number; endedAt: number }>;

/**
 * How long after `from` turns kept taking longer than `thresholdMs` (the usual p99): the end of the
 * last such turn that was still running at `from` or started after it, minus `from`; 0 when none.
 */
export const slowTurnsSettleMs = (turns: readonly TimedTurn[], from: number, thresholdMs: number): number =>
  turns
    .filter((turn) => turn.endedAt > from && turn.endedAt - turn.startedAt > thresholdMs)
    .reduce((latest, turn) => Math.max(latest, turn.endedAt - from), 0);

export type ScaleRun = Readonly<{
  client: string;
  replicas: number;
  latencyMs: number;
  turnsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  modelCallsPerTurn: number;
}>;

export type ScaleRatios = Readonly<{
  /** turns/s over the same client and latency with one replica (the same run's baseline). */
  speedup: number | null;
  /** p99 over the model's share of a turn (latency × model calls); null at 0 ms. */
  p99OverModelTime: number | null;
  p99OverP50: number;
}>;

export type ScaleRow = ScaleRun & ScaleRatios;

/** Each run (with whatever else it carries) and its ratios. */
export const scaleTable = <R extends ScaleRun>(runs: readonly R[]): (R & ScaleRatios)[] =>
  runs.map((run) => {
    const baseline = runs.find(
      (other) => other.client === run.client && other.latencyMs === run.latencyMs && other.replicas === 1,
    );
    const modelTime = run.latencyMs * run.modelCallsPerTurn;
    return {
      ...run,
      speedup:
        baseline === undefined || baseline.turnsPerSecond === 0
          ? null
          : round(run.turnsPerSecond / baseline.turnsPerSecond),
      p99OverModelTime: modelTime === 0 ? null : round(run.p99Ms / modelTime),
      p99OverP50: run.p50Ms === 0 ? 0 : round(run.p99Ms / run.p50Ms),
    };
  });

/**
 * The targets for an LLM-bound row (null where none applies: one replica, 0 ms): n
 * replicas give ≥ 0.9·n the turns/s of one (2.7× at three), and p99 ≤ 1.5 × the model's share.
 */
export const scaleTargets = (
  row: ScaleRow,
): Readonly<{ speedupMet: boolean | null; p99Met: boolean | null }> => ({
  speedupMet:
    row.replicas === 1 || row.latencyMs === 0 || row.speedup === null
      ? null
      : row.speedup >= 0.9 * row.replicas,
  p99Met: row.p99OverModelTime === null ? null : row.p99OverModelTime <= 1.5,
});

/**
 * What the whole machine spent per turn (every process: the product, Postgres, Kafka, the fake
 * model, the driver; `/proc/stat` busy jiffies of 10 ms summed over the cores) and the turns/s that
 * budget allows when every core is busy: the ceiling no number of replicas can pass on this machine.
 */
export const machineCeiling = (
  busyJiffies: number,
  turns: number,
  cores: number,
): Readonly<{ machineCpuMsPerTurn: number; ceilingTurnsPerSecond: number }> | null => {
  if (turns <= 0 || busyJiffies <= 0 || cores <= 0) return null;
  const msPerTurn = (busyJiffies * 10) / turns;
  return {
    machineCpuMsPerTurn: round(msPerTurn, 1),
    ceilingTurnsPerSecond: round((cores * 1_000) / msPerTurn, 1),
  };
};

/** Percent of the machine's CPU busy between two samples of busy and total jiffies (`machineCpu`). */
export const busyPercent = (
  before: Readonly<{ busy: number; total: number }>,
  after: Readonly<{ busy: number; total: number }>,
): number => round((100 * (after.busy - before.busy)) / Math.max(1, after.total - before.total), 0);

/** last / first of a series (how much a per-step cost grew along the history); null without both. */
export const growth = (values: readonly number[]): number | null => {
  const first = values[0];
  const last = values.at(-1);
  return first === undefined || last === undefined || values.length < 2 || first === 0
    ? null
    : round(last / first);
};

/** `VmRSS` and `VmHWM` (peak) in bytes from the text of /proc/<pid>/status. */
export const parseProcStatus = (text: string): Readonly<{ rssBytes: number; hwmBytes: number }> => {
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rssBytes: kib('VmRSS') * 1024, hwmBytes: kib('VmHWM') * 1024 };
};

/** `agentledger_partitions_owned{partition="N"} 1` lines of a Prometheus text exposition. */
export const ownedPartitions = (metrics: string): number[] =>
  [...metrics.matchAll(/^agentledger_partitions_owned\{[^}]*partition="(\d+)"[^}]*\} 1$/gm)]
    .map((match) => Number(match[1]))
    .sort((a, b) => a - b);
