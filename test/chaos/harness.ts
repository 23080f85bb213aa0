import { grpcDriver, restDriver, type RetryStats } from './clients.ts';
import { API_KEY, startCluster } from './cluster.ts';
import { parseSessionStreamId } from '@agentledger/events';
import { checkLog, ledgerCheck, loadLog, missingAccepted, paidTwice, sessionOutcomes } from './checks.ts';
import { runFaults } from './fault-runner.ts';
import { faultSchedule, type ScheduleOptions } from './faults.ts';
import { settleFollowers } from './followers.ts';
import { seededRandom } from './random.ts';
import { audits, unpublished } from './verify.ts';
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
  profile: 'short' | 'long';
  seed: number;
  kafkaClient?: string;
  log: (line: string) => void;
}>;

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
export const runChaos = async ({ profile: name, seed, kafkaClient = 'kafkajs', log }: ChaosOptions) => {
  const profile = PROFILES[name];
  const random = seededRandom(seed);
  const scheduleRandom = random.fork();
  const pickRandom = random.fork();
  const workloadRandom = random.fork();
  const began = Date.now();
  log(`chaos run: profile ${name}, seed ${seed}, Kafka client ${kafkaClient}`);
  const cluster = await startCluster(random.fork(), log, kafkaClient);
  try {
    const put = await fetch(`${cluster.restUrl}/v1/teams/chaos-team`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(TEAM),
    });
    if (!put.ok) throw new Error(`team spec refused: ${put.status} ${await put.text()}`);
    const stats: RetryStats = { retries: 0 };
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
    const rows = await loadLog(cluster.pool);
    const log_ = checkLog(rows);
    const outcomes = sessionOutcomes(log_.streams, work.outcomes, profile.workload.turns);
    const missing = missingAccepted(log_.streams, work.accepted);
    const heads = new Map(
      [...log_.streams].map(([id, events]) => [parseSessionStreamId(id)?.sessionId, events.length]),
    );
    const watched = await settleFollowers(work.followers, (id) => heads.get(id) ?? 0, 30_000);
    const notPublished = await unpublished(
      cluster.kafka.brokers,
      new Set(rows.map((r) => `${r.stream_id}#${r.version}`)),
      60_000,
    );
    const ledger = await ledgerCheck(cluster.pool, rows);
    const audit = await audits(
      cluster.restUrl,
      API_KEY,
      work.outcomes.map((o) => o.sessionId),
    );
    const twice = paidTwice(cluster.model.paid(), rows, records);
    drivers.grpc.close();
    const report = {
      profile: name,
      seed,
      kafkaClient,
      durationSeconds: Math.round((Date.now() - began) / 1000),
      sessions: {
        total: work.outcomes.length,
        completed: outcomes.completed,
        failed: outcomes.failed.length,
        failures: outcomes.failed.slice(0, 20),
      },
      turns: profile.workload.turns,
      events: rows.length,
      acceptedMessages: work.accepted.length,
      acceptedButMissing: missing.length,
      duplicateEvents: log_.duplicates.length,
      streamGaps: log_.gaps.length,
      clientStreams: {
        followers: watched.followers,
        reconnects: watched.reconnects,
        gaps: watched.gaps,
        duplicates: watched.duplicates,
      },
      committedNotPublished: notPublished.length,
      interleavedTurns: log_.interleaved.length,
      toolExecutions: {
        keys: ledger.keys,
        requested: ledger.toolCallsRequested,
        completed: ledger.toolCallsCompleted,
        unknownOutcome: ledger.unknownOutcome,
        completedWithoutExecution: ledger.completedWithoutExecution.length,
        idempotentRetried: ledger.idempotentRetried,
        nonIdempotentOverOnce: ledger.nonIdempotentOverOnce.length,
      },
      processLogs: cluster.logSummary(),
      processCrashes: cluster.crashes().map((c) => ({ ...c, at: c.at - startedAt })),
      hashChainsValidPct: audit.hashChainsValidPct,
      decisionReplayEqualPct: audit.replayEqualPct,
      modelCallsPaidTwice: { count: twice.length, calls: twice.slice(0, 20) },
      model: cluster.model.counts(),
      clientRetries: stats.retries,
      faults: records,
      details: {
        missing: missing.slice(0, 10),
        duplicates: log_.duplicates.slice(0, 10),
        gaps: log_.gaps.slice(0, 10),
        clientStreams: watched.problems,
        notPublished: notPublished.slice(0, 10),
        interleaved: log_.interleaved.slice(0, 10),
        nonIdempotentOverOnce: ledger.nonIdempotentOverOnce.slice(0, 10),
        completedWithoutExecution: ledger.completedWithoutExecution.slice(0, 10),
        audit: audit.problems.slice(0, 10),
      },
    };
    const passed =
      report.sessions.failed === 0 &&
      report.acceptedButMissing === 0 &&
      report.duplicateEvents === 0 &&
      report.streamGaps === 0 &&
      report.clientStreams.gaps === 0 &&
      report.clientStreams.duplicates === 0 &&
      report.committedNotPublished === 0 &&
      report.interleavedTurns === 0 &&
      report.toolExecutions.nonIdempotentOverOnce === 0 &&
      report.toolExecutions.completedWithoutExecution === 0 &&
      report.hashChainsValidPct === 100 &&
      report.decisionReplayEqualPct === 100;
    return { ...report, passed, ...(passed ? {} : { processOutput: cluster.outputs() }) };
  } finally {
    await cluster.stop();
  }
};
