import { randomBytes } from 'node:crypto';
import { NotFound, parseSessionStreamId, ValidationFailed } from '@agentledger/events';
import type { Principal } from '../auth/api-key.ts';
import { matchTypesOf, type WebhookStatus } from './webhook-events.ts';
import { urlProblem } from './webhook-url.ts';
import type { WebhookDelivery, WebhookEndpoint, WebhookStore } from './webhook-store.port.ts';
import type {
  DeliveryList,
  DeliveryView,
  PutWebhookBody,
  PutWebhookResponse,
  WebhookView,
} from './webhooks.schemas.ts';

export type WebhooksServiceDeps = Readonly<{
  webhooks: WebhookStore;
  clock: () => Date;
  /** Operator setting: endpoints may name private, loopback and link-local addresses. */
  allowPrivateAddresses: boolean;
  /** A redelivered dead delivery is retried for this long again. */
  retryPeriodMs: number;
}>;

export type WebhooksService = Readonly<{
  put: (
    principal: Principal,
    webhookId: string,
    body: PutWebhookBody,
  ) => Promise<Readonly<{ created: boolean; view: PutWebhookResponse }>>;
  get: (principal: Principal, webhookId: string) => Promise<WebhookView>;
  list: (principal: Principal) => Promise<readonly WebhookView[]>;
  remove: (principal: Principal, webhookId: string) => Promise<void>;
  rotateSecret: (principal: Principal, webhookId: string) => Promise<string>;
  deliveries: (
    principal: Principal,
    webhookId: string,
    query: Readonly<{ status: WebhookDelivery['status']; limit: number; after?: number | undefined }>,
  ) => Promise<DeliveryList>;
  redeliver: (principal: Principal, webhookId: string, deliveryId: string) => Promise<void>;
}>;

/** `whsec_` and 32 random bytes in base64, the Standard Webhooks secret format. */
const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

const viewOf = (e: WebhookEndpoint): WebhookView => ({
  webhookId: e.endpointId,
  url: e.url,
  events: [...e.eventTypes],
  statuses: [...e.statuses],
  createdAt: e.createdAt.toISOString(),
  updatedAt: e.updatedAt.toISOString(),
});

const deliveryView = (d: WebhookDelivery): DeliveryView => ({
  deliveryId: d.deliveryId,
  eventType: d.eventType,
  sessionId: parseSessionStreamId(d.streamId)?.sessionId ?? d.streamId,
  status: d.status,
  attempts: d.attempts,
  lastStatus: d.lastStatus ?? null,
  lastError: d.lastError ?? null,
  createdAt: d.createdAt.toISOString(),
  nextAttemptAt: d.nextAttemptAt.toISOString(),
  deliveredAt: d.deliveredAt?.toISOString() ?? null,
});

/** Webhook endpoints and their dead letters, every call scoped to the caller's tenant. */
export const createWebhooksService = (deps: WebhooksServiceDeps): WebhooksService => {
  const { webhooks, clock } = deps;
  const existing = async (principal: Principal, webhookId: string): Promise<WebhookEndpoint> => {
    const endpoint = await webhooks.getEndpoint(principal.tenantId, webhookId);
    if (endpoint === undefined) throw new NotFound('webhook', webhookId);
    return endpoint;
  };
  return {
    put: async (principal, webhookId, body) => {
      const problem = urlProblem(body.url, deps.allowPrivateAddresses);
      if (problem !== undefined)
        throw new ValidationFailed([{ in: 'body', field: 'url', pointer: '#/url', message: problem }]);
      const now = clock();
      const statuses = [...new Set(body.statuses)].sort() as WebhookStatus[];
      const eventTypes = [...new Set(body.events)].sort();
      const { endpoint, created } = await webhooks.putEndpoint({
        tenantId: principal.tenantId,
        endpointId: webhookId,
        url: body.url,
        eventTypes,
        statuses,
        matchTypes: matchTypesOf(eventTypes, statuses),
        secret: newSecret(),
        createdAt: now,
        updatedAt: now,
      });
      return { created, view: created ? { ...viewOf(endpoint), secret: endpoint.secret } : viewOf(endpoint) };
    },
    get: async (principal, webhookId) => viewOf(await existing(principal, webhookId)),
    list: async (principal) => (await webhooks.listEndpoints(principal.tenantId)).map(viewOf),
    remove: async (principal, webhookId) => {
      if (!(await webhooks.deleteEndpoint(principal.tenantId, webhookId)))
        throw new NotFound('webhook', webhookId);
    },
    rotateSecret: async (principal, webhookId) => {
      const secret = newSecret();
      if (!(await webhooks.rotateSecret(principal.tenantId, webhookId, secret, clock())))
        throw new NotFound('webhook', webhookId);
      return secret;
    },
    deliveries: async (principal, webhookId, { status, limit, after }) => {
      await existing(principal, webhookId);
      const items = await webhooks.listDeliveries(principal.tenantId, webhookId, {
        status,
        limit,
        ...(after === undefined ? {} : { afterPosition: after }),
      });
      return {
        items: items.map(deliveryView),
        nextAfter: items.length === limit ? items[items.length - 1]!.globalPosition : null,
      };
    },
    redeliver: async (principal, webhookId, deliveryId) => {
      const now = clock();
      const retryUntil = new Date(now.getTime() + deps.retryPeriodMs);
      if (!(await webhooks.redeliver(principal.tenantId, webhookId, deliveryId, now, retryUntil)))
        throw new NotFound('delivery', deliveryId);
    },
  };
};
