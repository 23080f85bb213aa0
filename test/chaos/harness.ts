import type { RetryStats } from './clients.ts';
import { grpcDriver } from './grpc-driver.ts';
import { restDriver } from './rest-driver.ts';
import { API_KEY, startCluster } from './cluster.ts';
import { runFaults } from './fault-runner.ts';
import { checkRun } from './report.ts';
import { faultSchedule, type ScheduleOptions } from './faults.ts';
import { seededRandom } from './random.ts';
import { runWorkload, type WorkloadOptions } from './workload.ts';

export type Profile = Readonly<{
  workload: Omit<WorkloadOptions, 'teamId' | 'prefix'>;
  faults: ScheduleOptions;
}>;

export const PROFILES: Readonly<Record<'short' | 'long', Profile>> = {
  short: {
    workload: {
      sessions: 100,
      turns: 3,
      rampMs: 45_000,
      pollMs: 1_000,
      followEvery: 4,
      thinkMs: [2_000, 8_000],
      turnDeadlineMs: 150_000,
    },
    faults: { warmupMs: 5_000, windowMs: 70_000, killEveryMs: [7_000, 12_000], stallMs: 30_000 },
  },
  long: {
    workload: {
      sessions: 1_000,
      turns: 5,
      rampMs: 200_000,
      pollMs: 2_000,
      followEvery: 10,
      thinkMs: [2_000, 15_000],
      turnDeadlineMs: 300_000,
    },
    faults: { warmupMs: 10_000, windowMs: 300_000, killEveryMs: [5_000, 10_000], stallMs: 30_000 },
  },
};

export type ChaosOptions = Readonly<{
  /** Overrides of the profile's workload size. */
  sizes?: Readonly<{ sessions?: number; turns?: number }>;
  profile: 'short' | 'long';
  seed: number;
  kafkaClient?: string;
  log: (line: string) => void;
  /** Aborting it (a test's timeout, Ctrl-C) stops every process of the run at once. */
  signal?: AbortSignal;
  /**
   * Given the run's teardown (idempotent: it awaits a stop already under way) as soon as the
   * cluster is up, for a caller that must not move on before it ends: a test's `onTestFinished`.
   * An aborted run's own code is abandoned by its caller, and a stop started from the abort alone
   * died with the test worker half-way (its private Postgres was left running).
   */
  teardown?: (stop: () => Promise<void>) => void;
}>;

/**
 * Calls `stop` once when `signal` aborts (at once when it already has); returns the function that
 * stops listening. A run cut short does not leave its processes behind.
 */
export const stopOnAbort = (
  signal: AbortSignal | undefined,
  stop: () => Promise<unknown>,
  log: (line: string) => void,
): (() => void) => {
  if (signal === undefined) return () => undefined;
  const onAbort = (): void => {
    log('aborted: stopping every process of the run');
    void stop().catch(() => undefined);
  };
  if (signal.aborted) {
    onAbort();
    return () => undefined;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
};

const TEAM = {
  specVersion: 1,
  name: 'chaos',
  type: 'single',
  agents: [
    {
      name: 'clerk',
      systemMessage: 'Use the tool the user names, then say done.',
      model: { endpoint: 'default', model: 'fake-model' },
      tools: ['ledger', 'charge', 'refund'],
      approvalRequired: ['refund'],
    },
  ],
};

/**
 * One chaos run: private services, the seeded workload and fault schedule at once, then every check
 * of the log, the topic, the ledger and the audit. Returns the report (`passed` when all zeros hold).
 */
export const runChaos = async ({
  profile: name,
  seed,
  kafkaClient = 'kafkajs',
  sizes,
  log,
  signal,
  teardown,
}: ChaosOptions) => {
  const profile = { ...PROFILES[name], workload: { ...PROFILES[name].workload, ...sizes } };
  const random = seededRandom(seed);
  const scheduleRandom = random.fork();
  const pickRandom = random.fork();
  const workloadRandom = random.fork();
  const began = Date.now();
  log(`chaos run: profile ${name}, seed ${seed}, Kafka client ${kafkaClient}`);
  const cluster = await startCluster(random.fork(), log, kafkaClient);
  teardown?.(cluster.stop);
  // What each process wrote last says where a run that had to be cut short was stuck.
  const release = stopOnAbort(
    signal,
    () => {
      log(cluster.outputTails());
      return cluster.stop();
    },
    log,
  );
  try {
    const put = await fetch(`${cluster.restUrl}/v1/teams/chaos-team`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(TEAM),
    });
    if (!put.ok) throw new Error(`team spec refused: ${put.status} ${await put.text()}`);
    const stats: RetryStats = { retries: 0, errors: {} };
    const drivers = {
      rest: restDriver(cluster.restUrl, API_KEY, stats),
      grpc: await grpcDriver(cluster.grpcAddress, API_KEY, stats),
    };
    const schedule = faultSchedule(scheduleRandom, profile.faults);
    log(
      `ready after ${Math.round((Date.now() - began) / 1000)} s; ${schedule.length} faults planned: ${schedule.map((f) => `${f.kind}@${Math.round(f.atMs / 1000)}s`).join(' ')}`,
    );
    const startedAt = Date.now();
    const faults = runFaults(schedule, cluster, pickRandom, startedAt, (line) =>
      log(`[${Math.round((Date.now() - startedAt) / 1000)}s] ${line}`),
    );
    const step = Math.max(1, Math.round(profile.workload.sessions / 10));
    const work = await runWorkload(
      drivers,
      workloadRandom,
      { ...profile.workload, teamId: 'chaos-team', prefix: `s${seed}` },
      (done) => {
        if (done % step === 0)
          log(
            `[${Math.round((Date.now() - startedAt) / 1000)}s] sessions finished: ${done}/${profile.workload.sessions}`,
          );
      },
    );
    const records = await faults.done;
    log(`workload and faults done after ${Math.round((Date.now() - startedAt) / 1000)} s; checking…`);
    const report = await checkRun(cluster, work, records, startedAt);
    drivers.grpc.close();
    return {
      profile: name,
      seed,
      kafkaClient,
      durationSeconds: Math.round((Date.now() - began) / 1000),
      turns: profile.workload.turns,
      clientRetries: stats.retries,
      clientRetryReasons: stats.errors,
      ...report,
    };
  } finally {
    release();
    await cluster.stop();
  }
};
