import type pg from 'pg';
import { parseSessionStreamId } from '@agentledger/events';
import type { PaidAnswer } from './chaos-model.ts';
import type { FaultRecord } from './fault-runner.ts';
import type { Accepted, ClientOutcome } from './workload.ts';

type Row = Readonly<{
  stream_id: string;
  version: number;
  event_id: string;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}>;

const idOf = (row: Row): string => String(row.data['toolCallId'] ?? row.data['callId'] ?? '');
const OUTCOMES: Readonly<Record<string, string>> = {
  ModelCallCompleted: 'model',
  ToolCallCompleted: 'tool',
  ToolCallFailed: 'tool',
};

/** Contiguous versions, duplicates (event ids, accepted messages, call outcomes) and interleaved turns. */
export const checkLog = (rows: readonly Row[]) => {
  const streams = new Map<string, Row[]>();
  for (const row of rows) streams.set(row.stream_id, [...(streams.get(row.stream_id) ?? []), row]);
  const gaps: string[] = [];
  const duplicates: string[] = [];
  const interleaved: string[] = [];
  const eventIds = new Set<string>();
  for (const [streamId, events] of streams) {
    if (events.some((e, i) => e.version !== i + 1)) gaps.push(streamId);
    const seen = new Set<string>();
    let open: string | undefined;
    for (const e of events) {
      if (eventIds.has(e.event_id)) duplicates.push(`${streamId}@${e.version}: event id ${e.event_id}`);
      eventIds.add(e.event_id);
      const key =
        e.type === 'UserMessageReceived'
          ? `message ${String(e.data['content'])}`
          : OUTCOMES[e.type] !== undefined
            ? `${OUTCOMES[e.type]} outcome ${idOf(e)}`
            : undefined;
      if (key !== undefined && seen.has(key)) duplicates.push(`${streamId}@${e.version}: ${key}`);
      if (key !== undefined) seen.add(key);
      const turnId = e.data['turnId'];
      if (e.type === 'TurnStarted') {
        if (open !== undefined)
          interleaved.push(`${streamId}@${e.version}: ${String(turnId)} started inside ${open}`);
        open = String(turnId);
      } else if (typeof turnId === 'string' && turnId !== open)
        interleaved.push(
          `${streamId}@${e.version}: ${e.type} of ${turnId} while ${open ?? 'no turn'} is open`,
        );
      if (e.type === 'TurnCompleted' || e.type === 'TurnFailed' || e.type === 'TurnCancelled')
        open = undefined;
    }
  }
  return { streams, gaps, duplicates, interleaved };
};

/** Accepted (202) messages that are not where the gateway said it stored them. */
export const missingAccepted = (
  streams: ReadonlyMap<string, readonly Row[]>,
  accepted: readonly Accepted[],
): string[] => {
  const bySession = new Map(
    [...streams].map(([id, events]) => [parseSessionStreamId(id)?.sessionId, events]),
  );
  return accepted
    .filter((a) => {
      const event = bySession.get(a.sessionId)?.[a.version - 1];
      return event?.type !== 'UserMessageReceived' || event.data['content'] !== a.content;
    })
    .map((a) => `${a.sessionId}: ${a.idempotencyKey} at v${a.version}`);
};

export const sessionOutcomes = (
  streams: ReadonlyMap<string, readonly Row[]>,
  outcomes: readonly ClientOutcome[],
  turns: number,
) => {
  const bySession = new Map(
    [...streams].map(([id, events]) => [parseSessionStreamId(id)?.sessionId, events]),
  );
  const failed: { sessionId: string; reasons: string[] }[] = [];
  for (const outcome of outcomes) {
    const events = bySession.get(outcome.sessionId) ?? [];
    const completed = events.filter((e) => e.type === 'TurnCompleted').length;
    if (completed === turns && outcome.error === undefined) continue;
    const reasons = [
      ...events
        .filter((e) => e.type === 'TurnFailed' || e.type === 'SessionStalled')
        .map((e) => `${e.type}: ${String(e.data['reason'] ?? '')} ${JSON.stringify(e.data['error'] ?? '')}`),
      ...(outcome.error === undefined ? [] : [`client (${outcome.protocol}): ${outcome.error}`]),
      `${completed}/${turns} turns completed`,
    ];
    failed.push({ sessionId: outcome.sessionId, reasons });
  }
  const byProtocol = (protocol: string) => ({
    sessions: outcomes.filter((o) => o.protocol === protocol).length,
    clientErrors: outcomes.filter((o) => o.protocol === protocol && o.error !== undefined).length,
  });
  return {
    completed: outcomes.length - failed.length,
    failed,
    rest: byProtocol('rest'),
    grpc: byProtocol('grpc'),
  };
};

/**
 * Model answers produced more than once for one call (`Idempotency-Key`): what a provider bills
 * twice. The cause is a stalled answer (the call timed out), the model client's own retry of a
 * call whose answer it did not get (`PaidAnswer.retriedAnswer`), the fault in between
 * (a replica killed before it recorded the answer), a recorded failure of the call, two replicas
 * asking (a lease taken over while its owner was still calling), or unexplained.
 */
export const paidTwice = (
  paid: ReadonlyMap<string, readonly PaidAnswer[]>,
  rows: readonly Row[],
  faults: readonly FaultRecord[],
) => {
  const failures = new Map<string, string>();
  for (const row of rows)
    if (row.type === 'ModelCallFailed') {
      const error = row.data['error'] as { type?: string } | undefined;
      failures.set(String(row.data['callId']), error?.type ?? 'failed');
    }
  const crashes = faults.filter(
    (f) =>
      ['kill-orchestrator', 'term-orchestrator', 'kill-postgres', 'stop-broker'].includes(f.kind) &&
      f.target !== '',
  );
  return [...paid]
    .filter(([, answers]) => answers.length > 1)
    .map(([key, answers]) => {
      const callId = key.slice(key.lastIndexOf(':') + 1);
      const first = answers[0]!.at;
      const last = answers.at(-1)!.at;
      // The fault that struck after the first answer was sent and before it was asked again.
      const between = crashes.filter((f) =>
        f.kind.endsWith('orchestrator')
          ? f.startedAt >= first && f.startedAt <= last
          : f.startedAt <= last && f.endedAt >= first,
      );
      const cause = answers.some((a) => a.stalled)
        ? `a stalled answer (the call timed out${failures.has(callId) ? `, recorded ${failures.get(callId)}` : ''}, then was asked again)`
        : answers.some((a) => a.retriedAnswer)
          ? 'the model client retried an answered attempt itself: the answer did not reach it whole or in time'
          : between.length > 0
            ? `answered, then ${between.map((f) => `${f.kind} ${f.target}`).join(' / ')} before the answer was recorded`
            : failures.has(callId)
              ? `the call was recorded as failed (${failures.get(callId)}) and retried`
              : new Set(answers.map((a) => a.replica)).size > 1
                ? 'asked by two replicas with no fault between: a lease taken over from a replica still calling'
                : 'unexplained';
      return { key, answers: answers.length, cause };
    });
};

export const loadLog = async (pool: pg.Pool): Promise<Row[]> =>
  (
    await pool.query<Row>(
      'select stream_id, version, event_id, type, data, metadata from events order by stream_id, version',
    )
  ).rows;

/**
 * Executions per idempotency key from the tools' own ledger: a non-idempotent tool (`charge`,
 * `refund`) runs at most once per key, and every recorded completion ran (a ledger row exists).
 */
export const ledgerCheck = async (pool: pg.Pool, rows: readonly Row[]) => {
  const { rows: ledger } = await pool.query<{ key: string; tool: string; executions: number }>(
    'select key, tool, executions from ledger',
  );
  const keys = new Set(ledger.map((r) => r.key));
  const keyOf = (row: Row) => {
    const ref = parseSessionStreamId(row.stream_id);
    return `${ref?.tenantId}/${ref?.sessionId}:${idOf(row)}`;
  };
  const completed = rows.filter((r) => r.type === 'ToolCallCompleted');
  return {
    keys: ledger.length,
    toolCallsRequested: rows.filter((r) => r.type === 'ToolCallRequested').length,
    toolCallsCompleted: completed.length,
    unknownOutcome: rows.filter((r) => r.type === 'ToolCallFailed' && r.data['reason'] === 'unknown-outcome')
      .length,
    completedWithoutExecution: completed.filter((r) => !keys.has(keyOf(r))).map(keyOf),
    idempotentRetried: ledger.filter((r) => r.tool === 'ledger' && r.executions > 1).length,
    nonIdempotentOverOnce: ledger
      .filter((r) => r.tool !== 'ledger' && r.executions > 1)
      .map((r) => `${r.tool} ${r.key} ×${r.executions}`),
  };
};
