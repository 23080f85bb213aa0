import { z } from 'zod';
import type { ApiOperation } from '../openapi/api-operation.ts';
import {
  eventPageSchema,
  listEventsQuerySchema,
  sessionPathSchema,
  streamHeadersSchema,
  streamQuerySchema,
} from './sessions.schemas.ts';

export const sessionOperations: readonly ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/sessions/{id}/events',
    operationId: 'listEvents',
    summary: 'The session events after a version; `Accept: application/x-ndjson` streams all of them',
    tag: 'sessions',
    scope: 'sessions:read',
    params: sessionPathSchema,
    query: listEventsQuerySchema,
    responses: {
      200: { description: 'A page of events (or NDJSON, one envelope a line)', schema: eventPageSchema },
      404: { description: 'No such session' },
    },
  },
  {
    method: 'get',
    path: '/v1/sessions/{id}/stream',
    operationId: 'streamEvents',
    summary: 'Server-sent events: past events after Last-Event-ID (or ?after), then live ones',
    tag: 'sessions',
    scope: 'sessions:read',
    params: sessionPathSchema,
    query: streamQuerySchema,
    headers: streamHeadersSchema,
    responses: {
      200: {
        description: 'SSE frames `id: <version>`, `event: <type>`, `data: <envelope JSON>`',
        schema: z.string().meta({ description: "Each frame's data is an event envelope (see listEvents)" }),
        contentType: 'text/event-stream',
      },
      404: { description: 'No such session' },
    },
  },
];
