import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Authenticator } from '../auth/authenticator.ts';
import { parseInput } from '../http/validation.ts';
import {
  deliveriesQuerySchema,
  deliveryPathSchema,
  putWebhookBodySchema,
  webhookPathSchema,
  type DeliveryView,
  type WebhookView,
} from '../webhooks/webhooks.schemas.ts';
import type { WebhooksService } from '../webhooks/webhooks.service.ts';
import { unary } from './grpc-handlers.ts';

type WebhookMessage = {
  webhook_id: string;
  url: string;
  events: string[];
  statuses: string[];
  created_at: string;
  updated_at: string;
};
type IdRequest = { webhook_id: string };
type PutRequest = IdRequest & { url: string; events: string[]; statuses: string[] };
type DeliveriesRequest = IdRequest & { status: string; limit: number; after: string };
type RedeliverRequest = IdRequest & { delivery_id: string };

const toMessage = (view: WebhookView): WebhookMessage => ({
  webhook_id: view.webhookId,
  url: view.url,
  events: view.events,
  statuses: view.statuses,
  created_at: view.createdAt,
  updated_at: view.updatedAt,
});

const toDelivery = (d: DeliveryView) => ({
  delivery_id: d.deliveryId,
  event_type: d.eventType,
  session_id: d.sessionId,
  status: d.status,
  attempts: d.attempts,
  last_status: d.lastStatus ?? 0,
  last_error: d.lastError ?? '',
  created_at: d.createdAt,
  next_attempt_at: d.nextAttemptAt,
  delivered_at: d.deliveredAt ?? '',
});

const idOf = (request: IdRequest): string =>
  parseInput(webhookPathSchema, { webhookId: request.webhook_id }, 'body').webhookId;

/** The `Webhooks` service: the same application service, scopes and errors as /v1/webhooks. */
export const webhooksGrpcHandlers = (
  authenticator: Authenticator,
  webhooks: WebhooksService,
): UntypedServiceImplementation => ({
  PutWebhook: unary(authenticator, 'webhooks:write', async (principal, request: PutRequest) => {
    const id = idOf(request);
    const body = parseInput(
      putWebhookBodySchema,
      { url: request.url, events: request.events, statuses: request.statuses },
      'body',
    );
    const { created, view } = await webhooks.put(principal, id, body);
    return { webhook: toMessage(view), created, secret: view.secret ?? '' };
  }),
  GetWebhook: unary(authenticator, 'webhooks:read', async (principal, request: IdRequest) =>
    toMessage(await webhooks.get(principal, idOf(request))),
  ),
  ListWebhooks: unary(authenticator, 'webhooks:read', async (principal) => ({
    items: (await webhooks.list(principal)).map(toMessage),
  })),
  DeleteWebhook: unary(authenticator, 'webhooks:write', async (principal, request: IdRequest) => {
    await webhooks.remove(principal, idOf(request));
    return {};
  }),
  RotateWebhookSecret: unary(authenticator, 'webhooks:write', async (principal, request: IdRequest) => {
    const id = idOf(request);
    return { webhook_id: id, secret: await webhooks.rotateSecret(principal, id) };
  }),
  ListDeliveries: unary(authenticator, 'webhooks:read', async (principal, request: DeliveriesRequest) => {
    const id = idOf(request);
    const query = parseInput(
      deliveriesQuerySchema,
      {
        ...(request.status === '' ? {} : { status: request.status }),
        ...(request.limit === 0 ? {} : { limit: request.limit }),
        ...(request.after === '0' || request.after === '' ? {} : { after: request.after }),
      },
      'body',
    );
    const page = await webhooks.deliveries(principal, id, query);
    return { items: page.items.map(toDelivery), next_after: String(page.nextAfter ?? 0) };
  }),
  Redeliver: unary(authenticator, 'webhooks:write', async (principal, request: RedeliverRequest) => {
    const { webhookId, deliveryId } = parseInput(
      deliveryPathSchema,
      { webhookId: request.webhook_id, deliveryId: request.delivery_id },
      'body',
    );
    await webhooks.redeliver(principal, webhookId, deliveryId);
    return { delivery_id: deliveryId };
  }),
});
