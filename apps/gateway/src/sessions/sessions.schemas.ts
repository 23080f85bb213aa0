import { z } from 'zod';
import { SESSION_STATUSES } from '@agentledger/agents';
import { clientId } from '../http/validation.ts';

export const sessionPathSchema = z.object({ id: clientId });

const version = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const listEventsQuerySchema = z.object({
  after: version.default(0).meta({ description: 'Exclusive version; 0 from the first event' }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const streamQuerySchema = z.object({
  after: version
    .optional()
    .meta({ description: 'Exclusive version; Last-Event-ID wins when both are given' }),
});

export const streamHeadersSchema = z.looseObject({ 'last-event-id': version.optional() });

export const eventEnvelopeSchema = z.object({
  eventId: z.string(),
  streamId: z.string(),
  tenantId: z.string(),
  version: z.int(),
  globalPosition: z.int(),
  type: z.string(),
  schemaVersion: z.int(),
  data: z.unknown(),
  metadata: z.record(z.string(), z.string()),
  recordedAt: z.string(),
  prevHash: z.string(),
  hash: z.string(),
});

export const eventPageSchema = z.object({
  events: z.array(eventEnvelopeSchema),
  nextAfter: z.int().nullable().meta({ description: 'The `after` of the next page; null at the end' }),
});

const sessionStatus = z.enum(SESSION_STATUSES);

/** Labels a client keeps with a session: at most 32 string values, stored in `SessionStarted`. */
export const sessionMetadataSchema = z
  .record(z.string().min(1).max(64), z.string().max(512))
  .refine((value) => Object.keys(value).length <= 32, { message: 'at most 32 entries' })
  .meta({ description: 'Labels kept with the session (in its SessionStarted event)' });

export const createSessionBodySchema = z.strictObject({
  teamId: clientId,
  sessionId: clientId
    .optional()
    .meta({ description: 'Client-chosen id: creating it again answers the same' }),
  metadata: sessionMetadataSchema.optional(),
});

export const postMessageBodySchema = z.strictObject({
  content: z
    .string()
    .min(1)
    .max(256 * 1024),
});

export const postMessageQuerySchema = z.object({
  wait: z.coerce
    .number()
    .min(0)
    .max(300)
    .optional()
    .meta({ description: 'Seconds to wait for the turn: 200 with its outcome, or 202 at the deadline' }),
});

export const getSessionQuerySchema = z.object({
  at: z.coerce
    .number()
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .meta({ description: 'State as of this version' }),
});

const LAST_INSTANT = Date.UTC(10_000, 0, 1);

/** An ISO 8601 instant: a date-time with `Z` or an offset, or a date (midnight UTC). */
const instant = (description: string) =>
  z
    .union([z.iso.datetime({ offset: true }), z.iso.date()], {
      error: 'an ISO 8601 date or date-time with Z or an offset (e.g. 2026-01-31 or 2026-01-31T12:00:00Z)',
    })
    .transform((value) => new Date(value))
    // What every store can compare: no year 0 or five-digit years (Postgres refuses them).
    .refine((date) => date.getTime() >= 0 && date.getTime() < LAST_INSTANT, {
      error: 'an instant from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z',
    })
    .meta({ description });

export const listSessionsQuerySchema = z.object({
  status: sessionStatus.optional(),
  teamId: clientId.optional(),
  createdAfter: instant('Sessions created at or after this instant (inclusive)').optional(),
  createdBefore: instant('Sessions created before this instant (exclusive)').optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(512).optional(),
});

export const cancelBodySchema = z.strictObject({ reason: z.string().max(1000).optional() }).optional();
export const closeBodySchema = cancelBodySchema;

export const approvalPathSchema = z.object({ id: clientId, toolCallId: clientId });
export const approvalBodySchema = z.strictObject({
  approve: z.boolean(),
  reason: z.string().max(1000).optional(),
});

export const forkBodySchema = z.strictObject({
  atVersion: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  sessionId: clientId.optional().meta({ description: 'The new session id; generated when absent' }),
});

export const sessionSummarySchema = z.object({
  sessionId: z.string(),
  status: sessionStatus,
  version: z.int(),
});

export const messageAcceptedSchema = z.object({ messageId: z.string(), version: z.int() });

export const messageViewSchema = z.object({
  id: z.string(),
  version: z.int(),
  source: z.string().meta({ description: '`user` or an agent name' }),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
});

export const turnResultSchema = z.object({ status: sessionStatus, messages: z.array(messageViewSchema) });

const pendingSchema = z.object({
  modelCalls: z.array(z.object({ callId: z.string(), agent: z.string(), purpose: z.string() })),
  toolCalls: z.array(z.object({ toolCallId: z.string(), agent: z.string(), name: z.string() })),
  approvals: z.array(
    z.object({
      toolCallId: z.string(),
      agent: z.string(),
      name: z.string(),
      arguments: z.string(),
      /** When it is denied unanswered (the team's `approvals.timeoutSeconds`); absent: no deadline. */
      expiresAt: z.string().optional(),
    }),
  ),
});

export const sessionStateSchema = z.object({
  sessionId: z.string(),
  teamId: z.string(),
  status: sessionStatus,
  version: z.int(),
  messages: z.array(messageViewSchema),
  usage: z.object({ promptTokens: z.int(), completionTokens: z.int() }),
  pending: pendingSchema,
});

export const sessionListSchema = z.object({
  items: z.array(
    z.object({
      sessionId: z.string(),
      teamId: z.string(),
      status: sessionStatus,
      version: z.int(),
      createdAt: z.string(),
    }),
  ),
  nextCursor: z.string().nullable(),
});

/** What `POST /v1/sessions:import` answers. */
export const importedSessionSchema = z.object({
  tenantId: z.string(),
  sessionId: z.string(),
  streamId: z.string(),
  eventCount: z.number().int(),
  headHash: z.string().describe('The head hash as stored here'),
  sourceHeadHash: z
    .string()
    .describe("The bundle's head hash: equal to headHash unless the tenant was mapped"),
  rehashed: z
    .boolean()
    .describe(
      'True when the bundle came from another tenant: tenant, stream and event ids changed, so did the chain',
    ),
  duplicate: z.boolean().describe('The same bundle was imported before: nothing was written'),
  checkpoints: z.object({
    imported: z.number().int().describe('Checkpoints whose signature this installation verified and kept'),
    unverified: z.number().int().describe('Checkpoints signed with a key this installation does not hold'),
  }),
});

/** The bundle: the manifest line, then one event envelope a line. */
export const bundleBodySchema = z
  .string()
  .min(1)
  .describe('application/x-ndjson: manifest line, then events');

export const auditSchema = z.object({
  eventCount: z.int(),
  headHash: z.string(),
  hashChainValid: z.boolean(),
  firstBrokenVersion: z.int().nullable().describe('The first version whose row does not verify.'),
  replayMatches: z
    .boolean()
    .describe(
      "Decision replay: every recorded decision is the one today's decider makes from the same history.",
    ),
  firstDivergentVersion: z.int().nullable().describe('The first version where replay decides differently.'),
  checkpoints: z
    .object({
      enabled: z
        .boolean()
        .describe('False without AGENTLEDGER_AUDIT_SIGNING_KEY or AGENTLEDGER_AUDIT_PUBLIC_KEY.'),
      signed: z.int().describe("How many signed checkpoints the session's stream has."),
      lastVerified: z.int().nullable().describe('The highest version whose signed checkpoint verified.'),
      valid: z.boolean(),
      problems: z.array(
        z.object({
          version: z.int(),
          reason: z.enum(['bad_signature', 'hash_mismatch', 'beyond_head', 'unknown_key']),
          message: z.string(),
        }),
      ),
    })
    .describe('Signed checkpoints: a rewritten history or a deleted tail no longer matches what was signed.'),
  specHash: z.string().nullable(),
  models: z.array(z.string()),
  tokens: z.object({ prompt: z.int(), completion: z.int(), total: z.int() }),
});

export type SessionSummary = z.output<typeof sessionSummarySchema>;
export type MessageAccepted = z.output<typeof messageAcceptedSchema>;
export type MessageView = z.output<typeof messageViewSchema>;
export type TurnResult = z.output<typeof turnResultSchema>;
export type SessionStateView = z.output<typeof sessionStateSchema>;
export type SessionList = z.output<typeof sessionListSchema>;
export type AuditReport = z.output<typeof auditSchema>;
export type ImportedSessionView = z.output<typeof importedSessionSchema>;
