import { describe, expect, it } from 'vitest';
import { runChaos } from './harness.ts';

const ONE_OFF_FAULTS = [
  'term-orchestrator',
  'kill-gateway',
  'stop-broker',
  'kill-postgres',
  'model-429',
  'model-500',
  'model-stall',
];

// Issue 13's short chaos profile in `npm test`, once per Kafka client of the orchestrators: private
// Postgres and Kafka, a gateway, three orchestrators, 100 sessions × 3 turns over REST and gRPC under
// every fault kind. The seed is random and printed; CHAOS_SEED=<seed> replays a failing run's
// workload and fault schedule (`npm run chaos -- --profile short --seed <seed> --kafka-client <c>`).
describe.each(['kafkajs', 'platformatic'])('chaos, short profile, Kafka client %s', (kafkaClient) => {
  it('loses, duplicates, interleaves and re-runs nothing while processes, the broker and Postgres fail', async ({
    signal,
    onTestFinished,
  }) => {
    const seed = Number(process.env['CHAOS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
    const report = await runChaos({
      profile: 'short',
      seed,
      kafkaClient,
      log: (line) => console.log(`[chaos ${kafkaClient} seed ${seed}] ${line}`),
      // A run past the test's timeout stops its processes instead of leaving them running, and the
      // test ends only when they are down.
      signal,
      teardown: (stop) => onTestFinished(() => stop(), 180_000),
    });
    console.log(JSON.stringify({ ...report, faults: report.faults.length }, null, 2));

    const executed = report.faults.filter((f) => f.outcome === 'ok' || f.outcome.startsWith('exited'));
    expect(new Set(executed.map((f) => f.kind))).toEqual(new Set([...ONE_OFF_FAULTS, 'kill-orchestrator']));
    expect({
      seed,
      completed: report.sessions.completed,
      failures: report.sessions.failures,
      acceptedMessages: report.acceptedMessages,
      acceptedButMissing: report.acceptedButMissing,
      duplicateEvents: report.duplicateEvents,
      streamGaps: report.streamGaps,
      clientStreamGaps: report.clientStreams.gaps,
      clientStreamDuplicates: report.clientStreams.duplicates,
      committedNotPublished: report.committedNotPublished,
      interleavedTurns: report.interleavedTurns,
      nonIdempotentOverOnce: report.toolExecutions.nonIdempotentOverOnce,
      completedWithoutExecution: report.toolExecutions.completedWithoutExecution,
      hashChainsValidPct: report.hashChainsValidPct,
      decisionReplayEqualPct: report.decisionReplayEqualPct,
    }).toEqual({
      seed,
      completed: 100,
      failures: [],
      acceptedMessages: 300,
      acceptedButMissing: 0,
      duplicateEvents: 0,
      streamGaps: 0,
      clientStreamGaps: 0,
      clientStreamDuplicates: 0,
      committedNotPublished: 0,
      interleavedTurns: 0,
      nonIdempotentOverOnce: 0,
      completedWithoutExecution: 0,
      hashChainsValidPct: 100,
      decisionReplayEqualPct: 100,
    });
    // One tool call per turn, each completed or (a non-idempotent one cut by a crash) unknown-outcome.
    expect(report.toolExecutions.requested).toBe(300);
    expect(report.toolExecutions.completed + report.toolExecutions.unknownOutcome).toBe(300);
    // Model calls paid twice are reported, each with its cause (not required to be zero: a call
    // answered just before its replica dies is asked again by the next owner).
    expect(report.modelCallsPaidTwice.calls.every((call) => call.cause !== '')).toBe(true);
    // A liveness bound, not a speed target: alone a run takes 2-3 minutes, but in `npm test` it
    // shares two cores with the other suites, and there a platformatic run's recovery after the
    // broker outage took its last sessions 140 s longer (seed 1725564815: 82 s of workload alone,
    // 233 s in CI) and ran past 420 s.
  }, 600_000);
});
