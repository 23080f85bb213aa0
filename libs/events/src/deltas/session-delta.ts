/** Default topic of the ephemeral deltas channel (short retention; never the event log). */
export const SESSION_DELTAS_TOPIC = 'agentledger.session-deltas';

/** How long the deltas topic keeps a message: a late reader has nothing to catch up on. */
export const SESSION_DELTAS_RETENTION_MS = 60_000;

/**
 * A piece of a model call's output as it streams, for watchers of the session only. Never
 * recorded: the call's `ModelCallCompleted` carries the whole answer. `callId`, `turnId` and
 * `agent` are those of the call's `ModelCallRequested`.
 */
export type SessionDelta = Readonly<{
  tenantId: string;
  sessionId: string;
  callId: string;
  turnId: string;
  agent: string;
  /** The model client's attempt (0 first; a retry starts the answer again from nothing). */
  attempt: number;
  /** Orders the deltas of one run of the call, from 0. */
  seq: number;
  kind: 'text' | 'tool_call_args';
  /** `text`: the next piece of the content. */
  text?: string;
  /** `tool_call_args`: the next piece of the arguments of the call's `index`-th tool call. */
  toolCall?: Readonly<{ index: number; id?: string; name?: string; argsDelta: string }>;
}>;

/** The key deltas travel under: tenant and session (a gateway matches watchers on both). */
export const deltaKeyOf = (delta: Pick<SessionDelta, 'tenantId' | 'sessionId'>): string =>
  `${delta.tenantId}/${delta.sessionId}`;

export type DeltaHandler = (delta: SessionDelta) => void;

/**
 * The ephemeral channel of model output deltas, from the orchestrator that owns a call to every
 * gateway. Ordered per session, at most once, from "now": a subscriber gets what is published
 * after it is subscribed, nothing older; nothing is stored for replay.
 */
export type DeltaChannel = Readonly<{
  /** Resolves once the deltas are handed over (the broker acknowledged them). */
  publish: (deltas: readonly SessionDelta[]) => Promise<void>;
  /** Resolves once the subscriber is live (what is published after that reaches `handler`). */
  subscribe: (handler: DeltaHandler) => Promise<Readonly<{ stop: () => Promise<void> }>>;
  close: () => Promise<void>;
}>;

/** Decodes a delta off the wire, or undefined (a foreign or malformed message is dropped). */
export const parseSessionDelta = (text: string): SessionDelta | undefined => {
  try {
    const value = JSON.parse(text) as Partial<SessionDelta> | null;
    if (
      typeof value?.tenantId !== 'string' ||
      typeof value.sessionId !== 'string' ||
      typeof value.callId !== 'string' ||
      typeof value.seq !== 'number' ||
      (value.kind !== 'text' && value.kind !== 'tool_call_args')
    )
      return undefined;
    return value as SessionDelta;
  } catch {
    return undefined;
  }
};
