import {
  parseSessionStreamId,
  readLogToHead,
  type EventEnvelope,
  type EventStore,
  type ReadLogOptions,
} from '@agentledger/events';

export type SessionStreamsOptions = ReadLogOptions &
  Readonly<{
    /** Told the global position reached after each page (progress output). */
    onPage?: (position: number) => void;
  }>;

/**
 * Every session stream of the log as committed when the call starts (one tenant's with
 * `tenantId`), each with its events in version order, from one pass over the log in global order
 * ({@link readLogToHead}: never part of the log when a read is held back). Other streams (teams,
 * keys) are skipped. The audit's `verify --all` and the replay of every stored session read this.
 */
export const readSessionStreams = async (
  store: Pick<EventStore, 'readAll' | 'committedHead'>,
  options: SessionStreamsOptions = {},
): Promise<Map<string, EventEnvelope[]>> => {
  const streams = new Map<string, EventEnvelope[]>();
  for await (const page of readLogToHead(store, options)) {
    for (const event of page) {
      if (parseSessionStreamId(event.streamId) === undefined) continue;
      const list = streams.get(event.streamId);
      if (list === undefined) streams.set(event.streamId, [event]);
      else list.push(event);
    }
    options.onPage?.(page.at(-1)!.globalPosition);
  }
  return streams;
};
