import type { EventEnvelope, EventStore } from '@agentledger/events';
import type { Principal } from '../auth/api-key.ts';
import { ResourceNotFound } from '../errors/gateway-errors.ts';
import { followStream } from './session-stream.ts';

export type EventPage = Readonly<{ events: readonly EventEnvelope[]; nextAfter: number | null }>;

/** The one application service behind the REST and gRPC session endpoints. */
export type SessionsService = Readonly<{
  listEvents: (
    principal: Principal,
    sessionId: string,
    page: Readonly<{ after: number; limit: number }>,
  ) => Promise<EventPage>;
  /**
   * Checks the session is the caller's (else 404), then yields its events after `after` and the
   * live ones until `signal` aborts.
   */
  streamEvents: (
    principal: Principal,
    sessionId: string,
    after: number,
    signal: AbortSignal,
  ) => Promise<AsyncIterable<EventEnvelope>>;
}>;

export type SessionsServiceDeps = Readonly<{
  store: EventStore;
  pollIntervalMs: number;
  /** Ends every live stream (application shutdown). */
  shutdown?: AbortSignal;
}>;

/** DESIGN.md: a session's stream is `session-<sessionId>`. */
export const sessionStreamId = (sessionId: string): string => `session-${sessionId}`;

export const createSessionsService = ({
  store,
  pollIntervalMs,
  shutdown,
}: SessionsServiceDeps): SessionsService => {
  const assertVisible = async (principal: Principal, sessionId: string): Promise<void> => {
    const [first] = await store.readStream(sessionStreamId(sessionId), {
      tenantId: principal.tenantId,
      limit: 1,
    });
    if (first === undefined) throw new ResourceNotFound('session', sessionId);
  };

  return {
    listEvents: async (principal, sessionId, { after, limit }) => {
      const events = await store.readStream(sessionStreamId(sessionId), {
        tenantId: principal.tenantId,
        fromVersion: after + 1,
        limit: limit + 1,
      });
      if (events.length === 0) await assertVisible(principal, sessionId);
      const page = events.slice(0, limit);
      return { events: page, nextAfter: events.length > limit ? (page.at(-1)?.version ?? null) : null };
    },
    streamEvents: async (principal, sessionId, after, signal) => {
      await assertVisible(principal, sessionId);
      return followStream(store, {
        tenantId: principal.tenantId,
        streamId: sessionStreamId(sessionId),
        after,
        signal: shutdown === undefined ? signal : AbortSignal.any([signal, shutdown]),
        pollIntervalMs,
      });
    },
  };
};
