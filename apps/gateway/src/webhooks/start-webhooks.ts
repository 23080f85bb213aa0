import type { EventEnvelope, EventStore } from '@agentledger/events';
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
  /**
   * Where the events come from. 'subscription' (default): a subscription to the log with its own
   * checkpoint. 'relay': the caller hands over each batch its outbox relay published, before the
   * relay's checkpoint (`fanOut` as the relay's `onPublished`): one reader of the log instead of
   * two. A checkpoint the subscription left (an earlier start) is caught up from once, then marked.
   */
  fedBy?: 'subscription' | 'relay';
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

export type RunningWebhooks = Readonly<{
  caughtUp: Promise<void>;
  /** `fedBy: 'relay'`: fans out a batch the relay published (a store error fails it: the relay retries). */
  fanOut: (batch: readonly EventEnvelope[]) => Promise<void>;
  stop: () => Promise<void>;
}>;

/** The subscription's checkpoint once the relay feeds the fan-out (no position is negative). */
export const HANDED_TO_RELAY = -1;

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
  const subscriberId = deps.subscriberId ?? 'webhooks';
  const subscribe = (from: 'end' | number) =>
    deps.store.subscribe({
      subscriberId,
      from,
      // Fan-out is idempotent (one delivery id per endpoint and event): after a crash, the second
      // handled since the last save is fanned out again and adds nothing.
      checkpointEveryMs: 1_000,
      onPage: (page) => untilDone(() => fanout.page(page), stopping.signal, deps.onError),
      handler: (event) => untilDone(() => fanout.event(event), stopping.signal, deps.onError),
      ...(deps.onError === undefined ? {} : { onError: deps.onError }),
    });
  const fanOut = async (batch: readonly EventEnvelope[]): Promise<void> => {
    await fanout.page(batch);
    for (const event of batch) await fanout.event(event);
  };
  if (deps.fedBy === 'relay') {
    // What the subscription of an earlier start had not handled yet: once, then marked handed over
    // (the relay republishes from its own checkpoint, and fanning an event out twice adds nothing).
    let catchingUp: ReturnType<typeof subscribe> | undefined;
    const handOver = async (): Promise<void> => {
      const stored = await deps.store.loadCheckpoint(subscriberId);
      if (stored === undefined || stored === HANDED_TO_RELAY || stopping.signal.aborted) return;
      catchingUp = subscribe(stored);
      await catchingUp.caughtUp;
      await catchingUp.stop();
      if (!stopping.signal.aborted) await deps.store.saveCheckpoint(subscriberId, HANDED_TO_RELAY);
    };
    const handedOver = handOver().catch((error: unknown) => deps.onError?.(error));
    return {
      caughtUp: handedOver,
      fanOut,
      stop: async () => {
        stopping.abort();
        await catchingUp?.stop();
        await handedOver;
        await deliverer.stop();
      },
    };
  }
  const subscription = subscribe('end');
  return {
    caughtUp: subscription.caughtUp,
    fanOut,
    stop: async () => {
      stopping.abort();
      await subscription.stop();
      await deliverer.stop();
    },
  };
};
