/** The gateway's wire types (apps/gateway's zod schemas, as `openapi.json` documents them). */

export type SessionStatus =
  'idle' | 'running' | 'awaiting_input' | 'awaiting_approval' | 'stalled' | 'failed' | 'closed';

export type PutTeamResult = Readonly<{ teamId: string; version: number }>;

export type Team = Readonly<{
  teamId: string;
  version: number;
  specHash: string;
  updatedAt: string;
  spec: Readonly<Record<string, unknown>>;
}>;

export type SessionSummary = Readonly<{ sessionId: string; status: SessionStatus; version: number }>;

export type MessageView = Readonly<{
  id: string;
  version: number;
  source: string;
  role: 'user' | 'assistant';
  content: string;
}>;

export type MessageAccepted = Readonly<{ messageId: string; version: number }>;

export type TurnResult = Readonly<{ status: SessionStatus; messages: readonly MessageView[] }>;

export type PendingApproval = Readonly<{
  toolCallId: string;
  agent: string;
  name: string;
  arguments: string;
}>;

export type SessionState = Readonly<{
  sessionId: string;
  teamId: string;
  status: SessionStatus;
  version: number;
  messages: readonly MessageView[];
  usage: Readonly<{ promptTokens: number; completionTokens: number }>;
  pending: Readonly<{
    modelCalls: readonly Readonly<{ callId: string; agent: string; purpose: string }>[];
    toolCalls: readonly Readonly<{ toolCallId: string; agent: string; name: string }>[];
    approvals: readonly PendingApproval[];
  }>;
}>;

export type SessionList = Readonly<{
  items: readonly Readonly<{
    sessionId: string;
    teamId: string;
    status: SessionStatus;
    version: number;
    createdAt: string;
  }>[];
  nextCursor: string | null;
}>;

export type EventEnvelope = Readonly<{
  eventId: string;
  streamId: string;
  tenantId: string;
  version: number;
  globalPosition: number;
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: Readonly<Record<string, string>>;
  recordedAt: string;
  prevHash: string;
  hash: string;
}>;

/**
 * A piece of a model call's output as it streams (SSE `event: delta`): never stored or replayed;
 * the call's `ModelCallCompleted` (same `callId`) carries the whole answer.
 */
export type ModelOutputDelta = Readonly<{
  tenantId: string;
  sessionId: string;
  /** The ids of the call's `ModelCallRequested`. */
  callId: string;
  turnId: string;
  agent: string;
  /** The model client's attempt, 0 first: a retry starts the answer again (drop what you had). */
  attempt: number;
  /** Orders the deltas of one run of the call, from 0. */
  seq: number;
  kind: 'text' | 'tool_call_args';
  text?: string;
  toolCall?: Readonly<{ index: number; id?: string; name?: string; argsDelta: string }>;
}>;

export type EventPage = Readonly<{ events: readonly EventEnvelope[]; nextAfter: number | null }>;

export type CheckpointProblem = Readonly<{
  version: number;
  reason: 'bad_signature' | 'hash_mismatch' | 'beyond_head' | 'unknown_key';
  message: string;
}>;

export type AuditReport = Readonly<{
  eventCount: number;
  headHash: string;
  hashChainValid: boolean;
  /** The first version whose row does not verify. */
  firstBrokenVersion: number | null;
  /** Decision replay: every recorded decision is the one today's decider makes from the same history. */
  replayMatches: boolean;
  firstDivergentVersion: number | null;
  /** Signed checkpoints (off without a signing or public key on the gateway). */
  checkpoints: Readonly<{
    enabled: boolean;
    signed: number;
    lastVerified: number | null;
    valid: boolean;
    problems: readonly CheckpointProblem[];
  }>;
  specHash: string | null;
  models: readonly string[];
  tokens: Readonly<{ prompt: number; completion: number; total: number }>;
}>;

/** What `importSession` answers (`POST /v1/sessions:import`). */
export type ImportedSession = Readonly<{
  tenantId: string;
  sessionId: string;
  streamId: string;
  eventCount: number;
  /** The head hash as stored here. */
  headHash: string;
  /** The bundle's head hash: equal to headHash unless the tenant was mapped. */
  sourceHeadHash: string;
  /** True when the bundle came from another tenant: tenant, stream and event ids changed, so did the chain. */
  rehashed: boolean;
  /** The same bundle was imported before: nothing was written. */
  duplicate: boolean;
  checkpoints: Readonly<{
    /** Checkpoints whose signature this installation verified and kept. */
    imported: number;
    /** Checkpoints signed with a key this installation does not hold. */
    unverified: number;
  }>;
}>;

export type Readiness = Readonly<{ status: 'ok' | 'unavailable'; checks: Readonly<Record<string, string>> }>;

/** RFC 9457 problem details as the gateway sends them (`errors` names each invalid field). */
export type Problem = Readonly<{
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  errors?: readonly Readonly<{ in: string; field: string; pointer?: string; message: string }>[];
}>;

/** A tenant's webhook endpoint (never its secret). */
export type Webhook = Readonly<{
  webhookId: string;
  url: string;
  events: readonly string[];
  statuses: readonly SessionStatus[];
  createdAt: string;
  updatedAt: string;
}>;

/** `secret` (whsec_…) only when the endpoint was created: store it, it is not shown again. */
export type PutWebhookResult = Webhook & Readonly<{ secret?: string }>;

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'dead';

/** One event to one endpoint; `deliveryId` is the `webhook-id` header of every attempt. */
export type WebhookDelivery = Readonly<{
  deliveryId: string;
  eventType: string;
  sessionId: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  nextAttemptAt: string;
  deliveredAt: string | null;
}>;

export type WebhookDeliveryPage = Readonly<{ items: readonly WebhookDelivery[]; nextAfter: number | null }>;
