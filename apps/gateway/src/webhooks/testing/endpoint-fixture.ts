import type { WebhookEndpoint } from '../webhook-store.port.ts';

/** A tenant's endpoint for tests: `TurnCompleted` unless `matchTypes` says otherwise. */
export const testEndpoint = (
  tenantId: string,
  endpointId: string,
  {
    createdAt = new Date(),
    matchTypes = ['TurnCompleted'],
  }: { createdAt?: Date; matchTypes?: readonly string[] } = {},
): WebhookEndpoint => ({
  tenantId,
  endpointId,
  url: `https://${tenantId}.example/hook`,
  eventTypes: [...matchTypes],
  statuses: [],
  matchTypes: [...matchTypes],
  secret: 'whsec_x',
  createdAt,
  updatedAt: createdAt,
});
