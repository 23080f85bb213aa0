import { readFileSync } from 'node:fs';
import { createNodeHttpTransport } from '@agentledger/agents';
import type { EventStore } from '@agentledger/events';
import type { AnyPgDatabase, SqlDriver } from '@agentledger/events/postgres';
import type { Registry } from 'prom-client';
import type { GatewayConfig } from '../config/gateway.config.ts';
import { createEndpointCache, WEBHOOKS_CHANNEL } from './endpoint-cache.ts';
import { readSecretBox } from './secret-box.ts';
import { createSqlWebhookStore } from './sql-webhook-store.ts';
import { startWebhooks, type RunningWebhooks, type WebhooksDeps } from './start-webhooks.ts';
import type { WebhookStore } from './webhook-store.port.ts';
import { createWebhooksService, type WebhooksService } from './webhooks.service.ts';

export type WebhookConfig = Pick<
  GatewayConfig,
  | 'WEBHOOK_ALLOW_PRIVATE_ADDRESSES'
  | 'WEBHOOK_SECRETS_KEY'
  | 'WEBHOOK_RETRY_PERIOD_MS'
  | 'WEBHOOK_INITIAL_BACKOFF_MS'
  | 'WEBHOOK_MAX_BACKOFF_MS'
  | 'WEBHOOK_TIMEOUT_MS'
  | 'WEBHOOK_LEASE_MS'
  | 'WEBHOOK_BATCH_SIZE'
  | 'WEBHOOK_POLL_INTERVAL_MS'
>;

export type ComposedWebhooks = Readonly<{
  service: WebhooksService;
  /** With `fedBy: 'relay'`: the relay's `onPublished` (see `startWebhooks`). */
  fanOut: RunningWebhooks['fanOut'];
  stop: () => Promise<void>;
}>;

/**
 * Webhooks for a composition that serves the gateway (distributed gateway, standalone): the API's
 * service and the delivering loops over the same SQL database as the event store; `listen` is
 * that database's LISTEN (endpoint changes reach the fan-out's cache through it).
 */
export const composeWebhooks = (
  store: EventStore,
  db: AnyPgDatabase,
  config: WebhookConfig,
  metrics: Registry,
  onError: (error: unknown) => void,
  listen: SqlDriver['listen'],
  fedBy: WebhooksDeps['fedBy'] = 'subscription',
): ComposedWebhooks => {
  const stored = createSqlWebhookStore(
    db,
    readSecretBox(config.WEBHOOK_SECRETS_KEY, (path) => readFileSync(path, 'utf8')),
  );
  // The fan-out keeps each tenant's endpoints until a write of one notifies (any process).
  const cache = createEndpointCache(stored.endpointsOfTenants);
  const webhooks: WebhookStore = { ...stored, endpointsOfTenants: cache.endpointsOfTenants };
  const listening = listen(WEBHOOKS_CHANNEL, cache.changed).then(
    (unlisten) => {
      // Listening from here on: on (the Postgres listener says so itself; PGlite's does not).
      cache.changed();
      return unlisten;
    },
    (error: unknown) => {
      onError(error);
      return async () => undefined;
    },
  );
  const running = startWebhooks({
    store,
    webhooks,
    transport: createNodeHttpTransport({ allowPrivateAddresses: config.WEBHOOK_ALLOW_PRIVATE_ADDRESSES }),
    settings: {
      initialBackoffMs: config.WEBHOOK_INITIAL_BACKOFF_MS,
      maxBackoffMs: config.WEBHOOK_MAX_BACKOFF_MS,
      retryPeriodMs: config.WEBHOOK_RETRY_PERIOD_MS,
      batchSize: config.WEBHOOK_BATCH_SIZE,
      leaseMs: config.WEBHOOK_LEASE_MS,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      pollIntervalMs: config.WEBHOOK_POLL_INTERVAL_MS,
    },
    metrics,
    onError,
    fedBy,
  });
  return {
    service: createWebhooksService({
      webhooks,
      clock: () => new Date(),
      allowPrivateAddresses: config.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
      retryPeriodMs: config.WEBHOOK_RETRY_PERIOD_MS,
    }),
    fanOut: running.fanOut,
    stop: async () => {
      await running.stop();
      await (
        await listening
      )();
    },
  };
};
