import type { EventStore } from '@agentledger/events';
import type { HttpTransport } from '@agentledger/agents';
import type { Registry } from 'prom-client';
import { startWebhookDeliverer } from './webhook-deliverer.ts';
import type { RetryPolicy } from './webhook-events.ts';
import { createWebhookFanout } from './webhook-fanout.ts';
import { registerWebhookMetrics } from './webhook-metrics.ts';
import type { WebhookStore } from './webhook-store.port.ts';

export type WebhookSettings = RetryPolicy &
  Readonly<{ batchSize: number; leaseMs: number; timeoutMs: number; pollIntervalMs: number }>;

export type WebhooksDeps = Readonly<{
  store: EventStore;
  webhooks: WebhookStore;
  transport: HttpTransport;
  settings: WebhookSettings;
  metrics?: Registry;
  clock?: () => Date;
  onError?: (error: unknown) => void;
  /** The subscription's checkpoint id; default `webhooks`. */
  subscriberId?: string;
}>;

/**
 * A handler's error would end the subscription: a store error while fanning out (the database
 * restarting) is retried with backoff until it passes or the webhooks stop.
 */
const untilDone = async (
  work: () => Promise<void>,
  signal: AbortSignal,
  onError: ((error: unknown) => void) | undefined,
): Promise<void> => {
  for (let delay = 100; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await work();
    } catch (error) {
      if (signal.aborted) throw error;
      onError?.(error);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
};

export type RunningWebhooks = Readonly<{ caughtUp: Promise<void>; stop: () => Promise<void> }>;

/**
 * The webhooks' two loops, driven from the event log and never from a request: a subscription with
 * its own checkpoint fans events out into deliveries (starting at the log's end the first time),
 * and the deliverer sends them. Several processes may run both: fan-out is idempotent and
 * deliveries are claimed under a lease.
 */
export const startWebhooks = (deps: WebhooksDeps): RunningWebhooks => {
  const clock = deps.clock ?? (() => new Date());
  const observe =
    deps.metrics === undefined ? undefined : registerWebhookMetrics(deps.metrics, deps.webhooks);
  const deliverer = startWebhookDeliverer({
    webhooks: deps.webhooks,
    transport: deps.transport,
    retry: deps.settings,
    clock,
    batchSize: deps.settings.batchSize,
    leaseMs: deps.settings.leaseMs,
    timeoutMs: deps.settings.timeoutMs,
    pollIntervalMs: deps.settings.pollIntervalMs,
    ...(observe === undefined ? {} : { observe }),
    ...(deps.onError === undefined ? {} : { onError: deps.onError }),
  });
  const fanout = createWebhookFanout({
    webhooks: deps.webhooks,
    clock,
    retryPeriodMs: deps.settings.retryPeriodMs,
    added: deliverer.wake,
  });
  const stopping = new AbortController();
  const subscription = deps.store.subscribe({
    subscriberId: deps.subscriberId ?? 'webhooks',
    from: 'end',
    onPage: (page) => untilDone(() => fanout.page(page), stopping.signal, deps.onError),
    handler: (event) => untilDone(() => fanout.event(event), stopping.signal, deps.onError),
    ...(deps.onError === undefined ? {} : { onError: deps.onError }),
  });
  return {
    caughtUp: subscription.caughtUp,
    stop: async () => {
      stopping.abort();
      await subscription.stop();
      await deliverer.stop();
    },
  };
};
