import { parseSessionStreamId, type EventEnvelope } from '@agentledger/events';
import { deliveryIdOf, WEBHOOK_EVENT_TYPES, webhookPayload } from './webhook-events.ts';
import type { WebhookStore } from './webhook-store.port.ts';

export type FanoutDeps = Readonly<{
  webhooks: WebhookStore;
  clock: () => Date;
  retryPeriodMs: number;
  /** Called after deliveries were added. */
  added?: () => void;
}>;

/**
 * The event-log subscription's handler: for a session event, one delivery per endpoint of the
 * event's tenant that asks for its type and existed when it was recorded. Handling an event twice
 * (a redelivered page after a crash) adds nothing: the delivery ids are derived from the work.
 */
export const createWebhookFanout =
  ({ webhooks, clock, retryPeriodMs, added }: FanoutDeps) =>
  async (event: EventEnvelope): Promise<void> => {
    if (!WEBHOOK_EVENT_TYPES.includes(event.type) || parseSessionStreamId(event.streamId) === undefined)
      return;
    const endpoints = await webhooks.endpointsFor(event.tenantId, event.type, new Date(event.recordedAt));
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
  };
