import { z } from 'zod';
import { clientId } from '../http/validation.ts';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_STATUSES } from './webhook-events.ts';

export const webhookPathSchema = z.object({ webhookId: clientId });
export const deliveryPathSchema = z.object({
  webhookId: clientId,
  deliveryId: z
    .string()
    .regex(/^msg_[0-9a-f]{32}$/, { message: 'must be a delivery id (msg_ and 32 hex digits)' }),
});

/**
 * The body of PUT /v1/webhooks/{webhookId}. The URL is checked against the outbound rules (no
 * private addresses unless the operator allows them) by the service, which knows that setting.
 */
export const putWebhookBodySchema = z
  .object({
    url: z.string().max(2048).meta({ description: 'Where deliveries are POSTed (http or https)' }),
    events: z
      .array(z.enum(WEBHOOK_EVENT_TYPES as [string, ...string[]]))
      .max(WEBHOOK_EVENT_TYPES.length)
      .default([])
      .meta({ description: 'Session event types to send' }),
    statuses: z
      .array(z.enum(WEBHOOK_STATUSES))
      .max(WEBHOOK_STATUSES.length)
      .default([])
      .meta({ description: 'Session statuses to send: the events that put a session in them' }),
  })
  .strict()
  .refine((body) => body.events.length + body.statuses.length > 0, {
    message: 'name at least one event type or status',
    path: ['events'],
  });

export const webhookSchema = z.object({
  webhookId: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  statuses: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const putWebhookResponseSchema = webhookSchema.extend({
  secret: z
    .string()
    .optional()
    .meta({ description: 'The signing secret (whsec_…): only when the endpoint is created; shown once' }),
});

export const webhookListSchema = z.object({ items: z.array(webhookSchema) });
export const secretResponseSchema = z.object({
  webhookId: z.string(),
  secret: z.string().meta({ description: 'The new signing secret (whsec_…), shown once' }),
});

export const deliveriesQuerySchema = z.object({
  status: z.enum(['pending', 'delivered', 'dead']).default('dead'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  after: z.coerce
    .number()
    .int()
    .nonnegative()
    .optional()
    .meta({ description: 'The `nextAfter` of the previous page' }),
});

export const deliverySchema = z.object({
  deliveryId: z.string().meta({ description: 'The `webhook-id` every attempt of this delivery carries' }),
  eventType: z.string(),
  sessionId: z.string(),
  status: z.enum(['pending', 'delivered', 'dead']),
  attempts: z.int(),
  lastStatus: z.int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  nextAttemptAt: z.string(),
  deliveredAt: z.string().nullable(),
});

export const deliveryListSchema = z.object({
  items: z.array(deliverySchema),
  nextAfter: z.int().nullable(),
});

export type PutWebhookBody = z.output<typeof putWebhookBodySchema>;
export type WebhookView = z.output<typeof webhookSchema>;
export type PutWebhookResponse = z.output<typeof putWebhookResponseSchema>;
export type DeliveryView = z.output<typeof deliverySchema>;
export type DeliveryList = z.output<typeof deliveryListSchema>;
