import { parseSessionStreamId } from '@agentledger/events';
import { API_KEY, type Cluster } from './cluster.ts';
import { checkLog, ledgerCheck, loadLog, missingAccepted, paidTwice, sessionOutcomes } from './checks.ts';
import type { FaultRecord } from './fault-runner.ts';
import { settleFollowers } from './followers.ts';
import { audits, unpublished } from './verify.ts';
import type { runWorkload } from './workload.ts';

type Work = Awaited<ReturnType<typeof runWorkload>>;

const countBy = (keys: readonly string[]): Record<string, number> =>
  keys.reduce<Record<string, number>>((counts, key) => ({ ...counts, [key]: (counts[key] ?? 0) + 1 }), {});

/**
 * Every check of a finished run — the log, the clients' live streams, the topic, the tools' ledger,
 * the audit, the model's bills — as the report's fields, `passed` when every zero holds, and the
 * processes' last output when not.
 */
export const checkRun = async (
  cluster: Cluster,
  work: Work,
  faults: readonly FaultRecord[],
  startedAt: number,
) => {
  const rows = await loadLog(cluster.pool);
  const log = checkLog(rows);
  const outcomes = sessionOutcomes(log.streams, work.outcomes, work.turns);
  const missing = missingAccepted(log.streams, work.accepted);
  const heads = new Map(
    [...log.streams].map(([id, events]) => [parseSessionStreamId(id)?.sessionId, events.length]),
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
  const twice = paidTwice(cluster.model.paid(), rows, faults);
  const report = {
    sessions: {
      total: work.outcomes.length,
      completed: outcomes.completed,
      failed: outcomes.failed.length,
      rest: outcomes.rest,
      grpc: outcomes.grpc,
      failures: outcomes.failed.slice(0, 20),
    },
    events: rows.length,
    acceptedMessages: work.accepted.length,
    acceptedButMissing: missing.length,
    duplicateEvents: log.duplicates.length,
    streamGaps: log.gaps.length,
    clientStreams: {
      followers: watched.followers,
      reconnects: watched.reconnects,
      gaps: watched.gaps,
      duplicates: watched.duplicates,
    },
    committedNotPublished: notPublished.length,
    interleavedTurns: log.interleaved.length,
    toolExecutions: {
      keys: ledger.keys,
      requested: ledger.toolCallsRequested,
      completed: ledger.toolCallsCompleted,
      unknownOutcome: ledger.unknownOutcome,
      completedWithoutExecution: ledger.completedWithoutExecution.length,
      idempotentRetried: ledger.idempotentRetried,
      nonIdempotentOverOnce: ledger.nonIdempotentOverOnce.length,
    },
    hashChainsValidPct: audit.hashChainsValidPct,
    decisionReplayEqualPct: audit.replayEqualPct,
    modelCallsPaidTwice: {
      count: twice.length,
      byCause: countBy(twice.map((call) => call.cause.replace(/replica-\w/g, 'replica-*'))),
      calls: twice.slice(0, 20),
    },
    model: cluster.model.counts(),
    processLogs: cluster.logSummary(),
    processCrashes: cluster.crashes().map((c) => ({ ...c, at: c.at - startedAt })),
    faults,
    details: {
      missing: missing.slice(0, 10),
      duplicates: log.duplicates.slice(0, 10),
      gaps: log.gaps.slice(0, 10),
      clientStreams: watched.problems,
      notPublished: notPublished.slice(0, 10),
      interleaved: log.interleaved.slice(0, 10),
      nonIdempotentOverOnce: ledger.nonIdempotentOverOnce.slice(0, 10),
      completedWithoutExecution: ledger.completedWithoutExecution.slice(0, 10),
      audit: audit.problems.slice(0, 10),
    },
  };
  const zeros = [
    report.sessions.failed,
    report.acceptedButMissing,
    report.duplicateEvents,
    report.streamGaps,
    report.clientStreams.gaps,
    report.clientStreams.duplicates,
    report.committedNotPublished,
    report.interleavedTurns,
    report.toolExecutions.nonIdempotentOverOnce,
    report.toolExecutions.completedWithoutExecution,
  ];
  const passed =
    zeros.every((n) => n === 0) && report.hashChainsValidPct === 100 && report.decisionReplayEqualPct === 100;
  return { ...report, passed, ...(passed ? {} : { processOutput: cluster.outputs() }) };
};
