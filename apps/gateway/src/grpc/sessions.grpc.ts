import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { StreamItem } from '@agentledger/sessions';
import { z } from 'zod';
import type { Authenticator } from '../auth/authenticator.ts';
import { clientId, idempotencyKey, parseInput } from '../http/validation.ts';
import { postMessageBodySchema, sessionMetadataSchema } from '../sessions/sessions.schemas.ts';
import type { SessionUseCases } from '@agentledger/sessions';
import { serverStream, unary } from './grpc-handlers.ts';
import {
  keyOf,
  toGrpcDelta,
  toGrpcEvent,
  toGrpcMessage,
  toGrpcState,
  toSummary,
  type ApproveRequest,
  type CancelRequest,
  type CreateSessionRequest,
  type GetSessionRequest,
  type GrpcEvent,
  type GrpcSessionState,
  type ListEventsRequest,
  type ListEventsResponse,
  type SendMessageRequest,
  type SendMessageResponse,
  type StreamEventsRequest,
  type Summary,
} from './session-messages.grpc.ts';

const version = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const optionalKey = z.union([z.literal(''), idempotencyKey]);
const optionalId = z.union([z.literal(''), clientId]);
const createSessionSchema = z.object({
  team_id: clientId,
  session_id: optionalId,
  metadata_json: z.union([
    z.literal(''),
    z
      .string()
      .transform((text, context) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          context.addIssue({ code: 'custom', message: 'not JSON' });
          return z.NEVER;
        }
      })
      .pipe(sessionMetadataSchema),
  ]),
  idempotency_key: optionalKey,
});
const sendMessageSchema = z.object({
  session_id: clientId,
  content: postMessageBodySchema.shape.content,
  idempotency_key: optionalKey,
  wait_seconds: z.int().min(0).max(300),
});
const getSessionSchema = z.object({
  session_id: clientId,
  at_version: z.coerce.number().int().min(1).optional(),
});
const cancelSchema = z.object({
  session_id: clientId,
  reason: z.string().max(1000),
  idempotency_key: optionalKey,
});
const listEventsSchema = z.object({
  session_id: clientId,
  after: version,
  limit: z.int().min(0).max(1000),
});
const streamEventsSchema = z.object({ session_id: clientId, after: version });
const approveSchema = z.object({
  session_id: clientId,
  tool_call_id: clientId,
  approve: z.boolean(),
  reason: z.string().max(1000),
  idempotency_key: optionalKey,
});

async function* mapItems(items: AsyncIterable<StreamItem>): AsyncGenerator<GrpcEvent> {
  for await (const item of items)
    yield item.kind === 'event' ? toGrpcEvent(item.event) : toGrpcDelta(item.delta);
}

/** The Sessions service over the same application service as REST. */
export const sessionsGrpcHandlers = (
  authenticator: Authenticator,
  sessions: SessionUseCases,
): UntypedServiceImplementation => ({
  CreateSession: unary<CreateSessionRequest, Summary>(
    authenticator,
    'sessions:write',
    async (principal, request) => {
      const input = parseInput(createSessionSchema, request, 'body');
      const summary = await sessions.createSession(
        principal,
        {
          teamId: input.team_id,
          ...(input.session_id === '' ? {} : { sessionId: input.session_id }),
          ...(input.metadata_json === '' ? {} : { metadata: input.metadata_json }),
        },
        keyOf(input.idempotency_key),
      );
      return toSummary(summary);
    },
  ),
  SendMessage: unary<SendMessageRequest, SendMessageResponse>(
    authenticator,
    'sessions:write',
    async (principal, request) => {
      const input = parseInput(sendMessageSchema, request, 'body');
      const result = await sessions.postMessage(
        principal,
        input.session_id,
        { content: input.content, waitSeconds: input.wait_seconds },
        keyOf(input.idempotency_key),
      );
      if (result.outcome === 'accepted') {
        return {
          message_id: result.body.messageId,
          version: result.body.version,
          completed: false,
          status: '',
          messages: [],
        };
      }
      const user = result.body.messages.find((message) => message.role === 'user');
      return {
        message_id: user?.id ?? '',
        version: user?.version ?? 0,
        completed: true,
        status: result.body.status,
        messages: result.body.messages.map(toGrpcMessage),
      };
    },
  ),
  GetSession: unary<GetSessionRequest, GrpcSessionState>(
    authenticator,
    'sessions:read',
    async (principal, request) => {
      const input = parseInput(getSessionSchema, request, 'body');
      return toGrpcState(await sessions.getSession(principal, input.session_id, input.at_version));
    },
  ),
  Cancel: unary<CancelRequest, { version: number }>(
    authenticator,
    'sessions:write',
    async (principal, request) => {
      const input = parseInput(cancelSchema, request, 'body');
      const summary = await sessions.cancel(
        principal,
        input.session_id,
        input.reason === '' ? undefined : input.reason,
        keyOf(input.idempotency_key),
      );
      return { version: summary.version };
    },
  ),
  Approve: unary<ApproveRequest, { version: number }>(
    authenticator,
    'sessions:write',
    async (principal, request) => {
      const input = parseInput(approveSchema, request, 'body');
      const summary = await sessions.approve(
        principal,
        input.session_id,
        input.tool_call_id,
        { approve: input.approve, ...(input.reason === '' ? {} : { reason: input.reason }) },
        keyOf(input.idempotency_key),
      );
      return { version: summary.version };
    },
  ),
  ListEvents: unary<ListEventsRequest, ListEventsResponse>(
    authenticator,
    'sessions:read',
    async (principal, request) => {
      const { session_id, after, limit } = parseInput(listEventsSchema, request, 'body');
      const page = await sessions.listEvents(principal, session_id, {
        after,
        limit: limit === 0 ? 100 : limit,
      });
      return {
        events: page.events.map(toGrpcEvent),
        ...(page.nextAfter === null ? {} : { next_after: page.nextAfter }),
      };
    },
  ),
  StreamEvents: serverStream<StreamEventsRequest, GrpcEvent>(
    authenticator,
    'sessions:read',
    async (principal, request, signal) => {
      const { session_id, after } = parseInput(streamEventsSchema, request, 'body');
      return mapItems(await sessions.streamSession(principal, session_id, after, signal));
    },
  ),
});
