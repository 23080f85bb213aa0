import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { EventEnvelope } from '@agentledger/events';
import { z } from 'zod';
import type { Authenticator } from '../auth/authenticator.ts';
import { clientId, parseInput } from '../http/validation.ts';
import type { SessionsService } from '../sessions/sessions.service.ts';
import { serverStream, unary } from './grpc-handlers.ts';

type GrpcEvent = {
  event_id: string;
  stream_id: string;
  tenant_id: string;
  version: number;
  global_position: number;
  type: string;
  schema_version: number;
  data_json: string;
  metadata_json: string;
  recorded_at: string;
  prev_hash: string;
  hash: string;
};
type ListEventsRequest = { session_id: string; after: string; limit: number };
type ListEventsResponse = { events: GrpcEvent[]; next_after?: number };
type StreamEventsRequest = { session_id: string; after: string };

const version = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const listEventsSchema = z.object({
  session_id: clientId,
  after: version,
  limit: z.int().min(0).max(1000),
});
const streamEventsSchema = z.object({ session_id: clientId, after: version });

export const toGrpcEvent = (event: EventEnvelope): GrpcEvent => ({
  event_id: event.eventId,
  stream_id: event.streamId,
  tenant_id: event.tenantId,
  version: event.version,
  global_position: event.globalPosition,
  type: event.type,
  schema_version: event.schemaVersion,
  data_json: JSON.stringify(event.data),
  metadata_json: JSON.stringify(event.metadata),
  recorded_at: event.recordedAt,
  prev_hash: event.prevHash,
  hash: event.hash,
});

async function* mapEvents(events: AsyncIterable<EventEnvelope>): AsyncGenerator<GrpcEvent> {
  for await (const event of events) yield toGrpcEvent(event);
}

/** The Sessions service over the same application service as REST. */
export const sessionsGrpcHandlers = (
  authenticator: Authenticator,
  sessions: SessionsService,
): UntypedServiceImplementation => ({
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
      return mapEvents(await sessions.streamEvents(principal, session_id, after, signal));
    },
  ),
});
