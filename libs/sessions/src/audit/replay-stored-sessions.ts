import { replayDecisions, type DecisionReplay, type SessionEvent } from '@agentledger/agents';
import { parseSessionStreamId, type EventEnvelope, type EventStore } from '@agentledger/events';
import { readSessionStreams } from './session-streams.ts';

/** One session whose recorded decisions are not the ones today's `decide` makes. */
export type SessionReplayFailure = Readonly<{
  tenantId: string;
  sessionId: string;
  streamId: string;
  replay: DecisionReplay;
}>;

export type StoredSessionsReplay = Readonly<{
  sessions: number;
  events: number;
  failures: readonly SessionReplayFailure[];
}>;

const toRecorded = (e: EventEnvelope) =>
  ({ type: e.type, data: e.data, recordedAt: e.recordedAt }) as SessionEvent & { recordedAt: string };

/**
 * Decision replay of every session stream in a store (one tenant's with `tenantId`), as committed
 * when the call starts ({@link readSessionStreams}), each replayed with {@link replayDecisions}.
 * Reads only; nothing is called, nothing is written.
 */
export const replayStoredSessions = async (
  store: Pick<EventStore, 'readAll' | 'committedHead'>,
  options: Readonly<{ tenantId?: string }> = {},
): Promise<StoredSessionsReplay> => {
  const streams = await readSessionStreams(store, options);
  const failures: SessionReplayFailure[] = [];
  let events = 0;
  for (const [streamId, list] of streams) {
    events += list.length;
    const replay = replayDecisions(list.map(toRecorded));
    if (replay.matches) continue;
    failures.push({
      tenantId: list[0]!.tenantId,
      sessionId: parseSessionStreamId(streamId)!.sessionId,
      streamId,
      replay,
    });
  }
  return { sessions: streams.size, events, failures };
};

const brief = (event: SessionEvent | undefined): string =>
  event === undefined ? 'nothing' : `${event.type} ${JSON.stringify(event.data).slice(0, 300)}`;

/** One line per failure: tenant, session, the first divergent version, recorded vs decided. */
export const describeReplayFailure = ({ tenantId, sessionId, replay }: SessionReplayFailure): string =>
  `session ${sessionId} (tenant ${tenantId}) diverges at version ${replay.firstDivergentVersion}: ` +
  `recorded ${brief(replay.recorded)}, replay decided ` +
  (replay.error === undefined ? brief(replay.decided) : `an error: ${replay.error}`);

/**
 * For test harnesses: throws when any session in the store fails decision replay, naming each
 * failing session and its first divergent version.
 */
export const assertStoredSessionsReplay = async (
  store: Pick<EventStore, 'readAll' | 'committedHead'>,
  options: Readonly<{ tenantId?: string }> = {},
): Promise<StoredSessionsReplay> => {
  const result = await replayStoredSessions(store, options);
  if (result.failures.length > 0)
    throw new Error(
      `decision replay failed for ${result.failures.length} of ${result.sessions} sessions:\n` +
        result.failures.map(describeReplayFailure).join('\n'),
    );
  return result;
};
