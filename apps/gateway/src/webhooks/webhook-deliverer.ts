import { signWebhook } from '@agentledger/client';
import type { HttpTransport } from '@agentledger/agents';
import { backoffMs, type RetryPolicy } from './webhook-events.ts';
import type { AttemptOutcome, ClaimedDelivery, WebhookStore } from './webhook-store.port.ts';

/** What the deliverer reports per attempt (Prometheus in webhook-metrics.ts). */
export type DeliveryObserver = (
  delivery: ClaimedDelivery,
  outcome: AttemptOutcome['kind'],
  seconds: number,
) => void;

export type WebhookDelivererDeps = Readonly<{
  webhooks: WebhookStore;
  /** `createNodeHttpTransport` with the operator's private-address choice: the rules of `http_request`. */
  transport: HttpTransport;
  retry: RetryPolicy;
  clock: () => Date;
  /** Deliveries attempted at once (each a different endpoint or session). */
  batchSize: number;
  /** A claimed delivery not settled within this time (the process died) is tried again. */
  leaseMs: number;
  timeoutMs: number;
  /** How often due deliveries are looked for without a wake-up. */
  pollIntervalMs: number;
  observe?: DeliveryObserver;
  onError?: (error: unknown) => void;
}>;

export type WebhookDeliverer = Readonly<{
  /** Looks for due deliveries now (the fan-out calls it after adding some). */
  wake: () => void;
  stop: () => Promise<void>;
}>;

const describe = (error: unknown): string =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 500);

/** One signed POST; the outcome to record. A redirect is an answer, never followed. */
const attempt = async (deps: WebhookDelivererDeps, d: ClaimedDelivery): Promise<AttemptOutcome> => {
  const timestamp = Math.floor(deps.clock().getTime() / 1000);
  let status: number | undefined;
  let error: string;
  try {
    const response = await deps.transport({
      url: new URL(d.url),
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'AgentLedger-Webhooks/1',
        'webhook-id': d.deliveryId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook({ secret: d.secret, id: d.deliveryId, timestamp, body: d.payload }),
      },
      body: d.payload,
      signal: AbortSignal.timeout(deps.timeoutMs),
      maxResponseBytes: 1024,
    });
    status = response.status;
    if (status >= 200 && status < 300) return { kind: 'delivered', status, at: deps.clock() };
    error = status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`;
  } catch (caught) {
    error = describe(caught);
  }
  const at = deps.clock();
  const nextAttemptAt = new Date(at.getTime() + backoffMs(deps.retry, d.attempts));
  const base = { error, at, ...(status === undefined ? {} : { status }) };
  return nextAttemptAt > d.retryUntil
    ? { kind: 'dead', ...base }
    : { kind: 'failed', ...base, nextAttemptAt };
};

/**
 * Sends due deliveries until stopped: claims a batch (the oldest undelivered one per endpoint and
 * session, under a lease), signs and POSTs each, and records the outcome — delivered, retried
 * after an exponential backoff, or parked as dead once the retry period is over. A process killed
 * mid-batch leaves its claims to expire; they are sent again with the same delivery id.
 */
export const startWebhookDeliverer = (deps: WebhookDelivererDeps): WebhookDeliverer => {
  const abort = new AbortController();
  let wakeUp: (() => void) | undefined;
  let woken = false;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (woken || abort.signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        abort.signal.removeEventListener('abort', done);
        wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      abort.signal.addEventListener('abort', done, { once: true });
      wakeUp = done;
    });

  const settle = async (d: ClaimedDelivery): Promise<void> => {
    const started = performance.now();
    const outcome = await attempt(deps, d);
    deps.observe?.(d, outcome.kind, (performance.now() - started) / 1000);
    await deps.webhooks.recordAttempt(d, outcome);
  };

  const run = async (): Promise<void> => {
    let failures = 0;
    while (!abort.signal.aborted) {
      woken = false;
      try {
        const claimed = await deps.webhooks.claimDue(deps.clock(), deps.batchSize, deps.leaseMs);
        failures = 0;
        if (claimed.length > 0) {
          await Promise.all(claimed.map(settle));
          continue;
        }
        await sleep(deps.pollIntervalMs);
      } catch (error) {
        deps.onError?.(error);
        failures += 1;
        await sleep(Math.min(100 * 2 ** failures, 5_000));
      }
    }
  };
  const done = run();
  return {
    wake: () => {
      woken = true;
      wakeUp?.();
    },
    stop: async () => {
      abort.abort();
      await done;
    },
  };
};
