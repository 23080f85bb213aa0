import { parseSessionStreamId, type EventEnvelope } from '@agentledger/events';
import { deliveryIdOf, WEBHOOK_EVENT_TYPES, webhookPayload } from './webhook-events.ts';
import type { WebhookEndpoint, WebhookStore } from './webhook-store.port.ts';

export type FanoutDeps = Readonly<{
  webhooks: WebhookStore;
  clock: () => Date;
  retryPeriodMs: number;
  /** Called after deliveries were added. */
  added?: () => void;
}>;

/** A session event a webhook may carry. */
const carried = (event: EventEnvelope): boolean =>
  WEBHOOK_EVENT_TYPES.includes(event.type) && parseSessionStreamId(event.streamId) !== undefined;

/** Of a tenant's endpoints, those that want the event's type and existed when it was recorded. */
export const endpointsFor = (
  endpoints: readonly WebhookEndpoint[],
  event: Pick<EventEnvelope, 'tenantId' | 'type' | 'recordedAt'>,
): readonly WebhookEndpoint[] => {
  const recordedAt = Date.parse(event.recordedAt);
  return endpoints.filter(
    (endpoint) =>
      endpoint.tenantId === event.tenantId &&
      endpoint.matchTypes.includes(event.type) &&
      endpoint.createdAt.getTime() <= recordedAt,
  );
};

export type WebhookFanout = Readonly<{
  /** Looks up the endpoints of the page's tenants, once for the page (the subscription's `onPage`). */
  page: (events: readonly EventEnvelope[]) => Promise<void>;
  /** Adds the event's deliveries (the subscription's `handler`). */
  event: (event: EventEnvelope) => Promise<void>;
}>;

/**
 * The event-log subscription's handlers: for a session event, one delivery per endpoint of the
 * event's tenant that asks for its type and existed when it was recorded. The endpoints are read
 * once per page, after all its events were recorded, so the page sees what a read per event
 * would. Handling an event twice (a redelivered page after a crash) adds nothing: the delivery
 * ids are derived from the work.
 */
export const createWebhookFanout = ({ webhooks, clock, retryPeriodMs, added }: FanoutDeps): WebhookFanout => {
  // The endpoints of the tenants of the page being handled (by tenant).
  let known = new Map<string, readonly WebhookEndpoint[]>();
  const endpointsOf = async (tenantIds: readonly string[]): Promise<void> => {
    const found = tenantIds.length === 0 ? [] : await webhooks.endpointsOfTenants(tenantIds);
    known = new Map(tenantIds.map((id) => [id, found.filter((endpoint) => endpoint.tenantId === id)]));
  };
  return {
    page: (events) => endpointsOf([...new Set(events.filter(carried).map((event) => event.tenantId))]),
    event: async (event) => {
      if (!carried(event)) return;
      if (!known.has(event.tenantId)) await endpointsOf([event.tenantId]);
      const endpoints = endpointsFor(known.get(event.tenantId) ?? [], event);
      if (endpoints.length === 0) return;
      const now = clock();
      await webhooks.addDeliveries(
        endpoints.map((endpoint) => {
          const deliveryId = deliveryIdOf(event.tenantId, endpoint.endpointId, event.eventId);
          return {
            deliveryId,
            tenantId: event.tenantId,
            endpointId: endpoint.endpointId,
            streamId: event.streamId,
            globalPosition: event.globalPosition,
            eventType: event.type,
            payload: webhookPayload(event, endpoint.endpointId, deliveryId),
            now,
            retryUntil: new Date(now.getTime() + retryPeriodMs),
          };
        }),
      );
      added?.();
    },
  };
};
