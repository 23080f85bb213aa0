import { z } from 'zod';
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
