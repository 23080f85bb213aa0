import { followSession, type FollowOptions, type StreamItem } from './follow-session.ts';
import { createTransport, type Call, type ClientOptions } from './transport.ts';
import type {
  AuditReport,
  EventEnvelope,
  EventPage,
  ImportedSession,
  MessageAccepted,
  PutTeamResult,
  Readiness,
  SessionList,
  SessionState,
  SessionStatus,
  SessionSummary,
  Team,
  TurnResult,
  PutWebhookResult,
  Webhook,
  WebhookDeliveryPage,
  WebhookDeliveryStatus,
} from './types.ts';

/** Options of every mutating call: an idempotency key to reuse across your own retries, a signal. */
export type MutationOptions = Readonly<{ idempotencyKey?: string; signal?: AbortSignal }>;

/** The answer to a message: the turn's outcome (with `wait`), or accepted while the turn runs. */
export type PostMessageResult =
  | Readonly<{ outcome: 'turn_ended'; turn: TurnResult }>
  | Readonly<{ outcome: 'accepted'; accepted: MessageAccepted }>;

export type AgentLedgerClient = ReturnType<typeof createAgentLedgerClient>;

/**
 * A typed client of the AgentLedger REST API (global fetch only). Mutating calls carry an
 * idempotency key, the same on every retry; network errors and 429/503 are retried within the
 * retry policy; any other error answer throws a ProblemError with the problem+json.
 */
export const createAgentLedgerClient = (options: ClientOptions) => {
  const transport = createTransport(options);
  const json = async <T>(call: Call): Promise<T> => (await (await transport.send(call)).json()) as T;
  const mutate = <T>(call: Call, opts: MutationOptions = {}): Promise<T> =>
    json<T>({ ...call, idempotencyKey: opts.idempotencyKey, signal: opts.signal });
  const session = (id: string) => ({ id });

  return {
    putTeam: (teamId: string, spec: object, opts?: MutationOptions) =>
      mutate<PutTeamResult>({ operation: 'putTeam', params: { teamId }, body: spec }, opts),
    getTeam: (teamId: string) => json<Team>({ operation: 'getTeam', params: { teamId } }),
    createSession: (
      body: Readonly<{ teamId: string; sessionId?: string; metadata?: Readonly<Record<string, string>> }>,
      opts?: MutationOptions,
    ) => mutate<SessionSummary>({ operation: 'createSession', body }, opts),
    /** `createdAfter` (inclusive) and `createdBefore` (exclusive): ISO 8601 dates or date-times. */
    listSessions: (
      query: Readonly<{
        status?: SessionStatus;
        teamId?: string;
        createdAfter?: string;
        createdBefore?: string;
        limit?: number;
        cursor?: string;
      }> = {},
    ) => json<SessionList>({ operation: 'listSessions', query }),
    /** The state now, or as of version `at`. */
    getSession: (id: string, query: Readonly<{ at?: number }> = {}) =>
      json<SessionState>({ operation: 'getSession', params: session(id), query }),
    /** `wait` (seconds, ≤ 300): answer with the turn's outcome, or `accepted` at the deadline. */
    postMessage: async (
      id: string,
      content: string,
      opts: MutationOptions & Readonly<{ wait?: number }> = {},
    ): Promise<PostMessageResult> => {
      const response = await transport.send({
        operation: 'postMessage',
        params: session(id),
        query: { wait: opts.wait },
        body: { content },
        idempotencyKey: opts.idempotencyKey,
        signal: opts.signal,
      });
      return response.status === 200
        ? { outcome: 'turn_ended', turn: (await response.json()) as TurnResult }
        : { outcome: 'accepted', accepted: (await response.json()) as MessageAccepted };
    },
    cancelTurn: (id: string, reason?: string, opts?: MutationOptions) =>
      mutate<SessionSummary>({ operation: 'cancelTurn', params: session(id), body: { reason } }, opts),
    closeSession: (id: string, reason?: string, opts?: MutationOptions) =>
      mutate<SessionSummary>({ operation: 'closeSession', params: session(id), body: { reason } }, opts),
    decideApproval: (
      id: string,
      toolCallId: string,
      decision: Readonly<{ approve: boolean; reason?: string }>,
      opts?: MutationOptions,
    ) =>
      mutate<SessionSummary>(
        { operation: 'decideApproval', params: { id, toolCallId }, body: decision },
        opts,
      ),
    forkSession: (
      id: string,
      body: Readonly<{ atVersion: number; sessionId?: string }>,
      opts?: MutationOptions,
    ) => mutate<SessionSummary>({ operation: 'forkSession', params: session(id), body }, opts),
    auditSession: (id: string) => json<AuditReport>({ operation: 'auditSession', params: session(id) }),
    /** The session's audit bundle (NDJSON: a manifest line, then one event a line), as text. */
    exportSession: async (id: string, opts: Readonly<{ signal?: AbortSignal }> = {}): Promise<string> =>
      (await transport.send({ operation: 'exportSession', params: session(id), signal: opts.signal })).text(),
    /**
     * Verifies a bundle (as `exportSession` returns it) and stores its session in the caller's
     * tenant: a 422 ProblemError names what does not verify, a 409 one says another session has the
     * id; the same bundle again answers `duplicate: true` (so a retried import is harmless).
     */
    importSession: (bundle: string, opts: Readonly<{ signal?: AbortSignal }> = {}) =>
      json<ImportedSession>({ operation: 'importSession', body: bundle, signal: opts.signal }),
    listEvents: (id: string, query: Readonly<{ after?: number; limit?: number }> = {}) =>
      json<EventPage>({ operation: 'listEvents', params: session(id), query }),
    /** Every event after `after`, page by page. */
    allEvents: async function* (id: string, after = 0): AsyncGenerator<EventEnvelope> {
      for (let next: number | null = after; next !== null;) {
        const page: EventPage = await json<EventPage>({
          operation: 'listEvents',
          params: session(id),
          query: { after: next, limit: 1000 },
        });
        yield* page.events;
        next = page.nextAfter;
      }
    },
    /** Events (and deltas) over SSE, resuming from the last event after a dropped connection. */
    streamEvents: (id: string, opts?: FollowOptions): AsyncGenerator<StreamItem> =>
      followSession({ transport, sleep: transport.sleep, backoff: transport.backoff }, id, opts),
    /** Registers or updates an endpoint; the secret comes back only on creation. */
    putWebhook: (
      webhookId: string,
      body: Readonly<{ url: string; events?: readonly string[]; statuses?: readonly SessionStatus[] }>,
    ) => json<PutWebhookResult>({ operation: 'putWebhook', params: { webhookId }, body }),
    listWebhooks: () => json<{ items: readonly Webhook[] }>({ operation: 'listWebhooks' }),
    getWebhook: (webhookId: string) => json<Webhook>({ operation: 'getWebhook', params: { webhookId } }),
    deleteWebhook: async (webhookId: string): Promise<void> => {
      await transport.send({ operation: 'deleteWebhook', params: { webhookId } });
    },
    rotateWebhookSecret: (webhookId: string) =>
      json<{ webhookId: string; secret: string }>({
        operation: 'rotateWebhookSecret',
        params: { webhookId },
      }),
    /** The dead-letter list by default; `status` for pending or delivered ones. */
    listWebhookDeliveries: (
      webhookId: string,
      query: Readonly<{ status?: WebhookDeliveryStatus; limit?: number; after?: number }> = {},
    ) => json<WebhookDeliveryPage>({ operation: 'listWebhookDeliveries', params: { webhookId }, query }),
    redeliverWebhook: (webhookId: string, deliveryId: string) =>
      json<{ deliveryId: string }>({ operation: 'redeliverWebhook', params: { webhookId, deliveryId } }),
    live: () => json<{ status: 'ok' }>({ operation: 'live' }),
    ready: () => json<Readiness>({ operation: 'ready' }),
    metrics: async () => (await transport.send({ operation: 'metrics' })).text(),
  };
};
