import { replayDecisions, type DecisionReplay, type SessionEvent } from '@agentledger/agents';
import { parseSessionStreamId, type EventEnvelope, type EventStore } from '@agentledger/events';

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

const PAGE = 10_000;

const toRecorded = (e: EventEnvelope) =>
  ({ type: e.type, data: e.data, recordedAt: e.recordedAt }) as SessionEvent & { recordedAt: string };

/**
 * Decision replay of every session stream in a store (one tenant's with `tenantId`): one pass over
 * the log in global order, streams grouped, each replayed with {@link replayDecisions}. Other
 * streams (teams, keys) are skipped. Reads only; nothing is called, nothing is written.
 */
export const replayStoredSessions = async (
  store: Pick<EventStore, 'readAll'>,
  options: Readonly<{ tenantId?: string }> = {},
): Promise<StoredSessionsReplay> => {
  const streams = new Map<string, EventEnvelope[]>();
  let after = 0;
  for (;;) {
    const page = await store.readAll({
      after,
      limit: PAGE,
      ...(options.tenantId === undefined ? {} : { tenantId: options.tenantId }),
    });
    if (page.length === 0) break;
    for (const e of page) {
      if (parseSessionStreamId(e.streamId) === undefined) continue;
      const list = streams.get(e.streamId);
      if (list === undefined) streams.set(e.streamId, [e]);
      else list.push(e);
    }
    after = page.at(-1)!.globalPosition;
  }
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
  store: Pick<EventStore, 'readAll'>,
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
