import { createHash } from 'node:crypto';
import { SESSION_EVENT_TYPES } from '@agentledger/agents';
import { parseSessionStreamId, type EventEnvelope } from '@agentledger/events';

/** Event types an endpoint may ask for: the session events of docs/api.md. */
export const WEBHOOK_EVENT_TYPES: readonly string[] = SESSION_EVENT_TYPES;

/** Each session status an endpoint may ask for, as the events that put a session in it. */
export const STATUS_EVENT_TYPES = {
  idle: ['TurnCompleted', 'TurnCancelled'],
  running: ['TurnStarted'],
  awaiting_input: ['SessionAwaitingInput'],
  awaiting_approval: ['ToolApprovalRequested'],
  stalled: ['SessionStalled'],
  failed: ['TurnFailed'],
  closed: ['SessionClosed'],
} as const satisfies Readonly<Record<string, readonly string[]>>;

export type WebhookStatus = keyof typeof STATUS_EVENT_TYPES;
export const WEBHOOK_STATUSES = Object.keys(STATUS_EVENT_TYPES) as readonly WebhookStatus[];

/** The event types a delivery is made for: the ones asked for plus those the statuses stand for. */
export const matchTypesOf = (eventTypes: readonly string[], statuses: readonly WebhookStatus[]): string[] =>
  [...new Set([...eventTypes, ...statuses.flatMap((status) => STATUS_EVENT_TYPES[status])])].sort();

/**
 * The delivery id (`webhook-id`): derived from the endpoint and the event, so a re-fanned event and
 * every retry and redelivery carry the same id and a receiver can deduplicate on it.
 */
export const deliveryIdOf = (tenantId: string, endpointId: string, eventId: string): string =>
  `msg_${createHash('sha256').update(`${tenantId}\u0000${endpointId}\u0000${eventId}`).digest('hex').slice(0, 32)}`;

/**
 * The body sent (Standard Webhooks shape: `type`, `timestamp`, `data`). `data.event` is the
 * envelope as `GET …/events` returns it; the payload holds nothing the tenant cannot read anyway.
 */
export const webhookPayload = (event: EventEnvelope, endpointId: string, deliveryId: string): string =>
  JSON.stringify({
    type: event.type,
    timestamp: event.recordedAt,
    data: {
      deliveryId,
      endpointId,
      sessionId: parseSessionStreamId(event.streamId)?.sessionId ?? event.streamId,
      version: event.version,
      event,
    },
  });

export type RetryPolicy = Readonly<{
  /** Wait after the first failed attempt; doubled after each further one. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** How long after its event a delivery is retried before it is parked as dead. */
  retryPeriodMs: number;
}>;

/** The wait after the `attempts`-th failed attempt: exponential, capped. */
export const backoffMs = (policy: RetryPolicy, attempts: number): number =>
  Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, Math.min(attempts - 1, 30)));
