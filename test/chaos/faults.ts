import type { Random } from './random.ts';

export type FaultKind =
  | 'kill-orchestrator'
  | 'term-orchestrator'
  | 'kill-gateway'
  | 'stop-broker'
  | 'kill-postgres'
  | 'model-429'
  | 'model-500'
  | 'model-stall';

/** One planned fault: `atMs` after the run starts; the target is down (or the fault lasts) `forMs`. */
export type Fault = Readonly<{ kind: FaultKind; atMs: number; forMs: number }>;

export type ScheduleOptions = Readonly<{
  /** Faults start after this and the one-off ones end before `windowMs`. */
  warmupMs: number;
  windowMs: number;
  /** Random orchestrator SIGKILLs come this far apart (inclusive range). */
  killEveryMs: readonly [number, number];
  stallMs: number;
}>;

const ONE_OFF: readonly Readonly<{ kind: FaultKind; forMs: readonly [number, number] }>[] = [
  { kind: 'term-orchestrator', forMs: [1_000, 3_000] },
  { kind: 'kill-gateway', forMs: [1_000, 3_000] },
  { kind: 'stop-broker', forMs: [10_000, 20_000] },
  { kind: 'kill-postgres', forMs: [1_000, 4_000] },
  { kind: 'model-429', forMs: [4_000, 8_000] },
  { kind: 'model-500', forMs: [4_000, 8_000] },
  { kind: 'model-stall', forMs: [0, 0] },
];

/**
 * The seeded fault schedule: SIGKILLs of a random orchestrator every few seconds, and each one-off
 * fault once, in its own slot of the window (in a seeded order), so outages do not hide each other.
 */
export const faultSchedule = (random: Random, options: ScheduleOptions): Fault[] => {
  const faults: Fault[] = [];
  for (let at = options.warmupMs + random.int(...options.killEveryMs); at < options.windowMs;) {
    faults.push({ kind: 'kill-orchestrator', atMs: at, forMs: random.int(500, 2_500) });
    at += random.int(...options.killEveryMs);
  }
  const order = ONE_OFF.map((fault) => ({ fault, rank: random.next() })).sort((a, b) => a.rank - b.rank);
  const slot = (options.windowMs - options.warmupMs) / order.length;
  order.forEach(({ fault }, i) => {
    const atMs = Math.round(options.warmupMs + i * slot + random.next() * slot * 0.4);
    const forMs = fault.kind === 'model-stall' ? options.stallMs : random.int(...fault.forMs);
    faults.push({ kind: fault.kind, atMs, forMs });
  });
  return faults.sort((a, b) => a.atMs - b.atMs);
};
