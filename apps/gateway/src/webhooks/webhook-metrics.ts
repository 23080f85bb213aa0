import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DeliveryObserver } from './webhook-deliverer.ts';
import type { WebhookStore } from './webhook-store.port.ts';

type Labels = 'tenant' | 'endpoint';

/**
 * Per endpoint: deliveries by outcome (delivered, failed — to be retried —, dead), attempt
 * latency, and the backlog (pending and dead deliveries), read from the store at each scrape.
 */
export const registerWebhookMetrics = (registry: Registry, webhooks: WebhookStore): DeliveryObserver => {
  const attempts = new Counter<Labels | 'outcome'>({
    name: 'agentledger_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered, failed and to be retried, dead)',
    labelNames: ['tenant', 'endpoint', 'outcome'],
    registers: [registry],
  });
  const latency = new Histogram<Labels>({
    name: 'agentledger_webhook_delivery_seconds',
    help: 'Time from sending a webhook to its answer (or failure)',
    labelNames: ['tenant', 'endpoint'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge<Labels | 'status'>({
    name: 'agentledger_webhook_backlog',
    help: 'Webhook deliveries waiting (pending) or parked (dead), per endpoint',
    labelNames: ['tenant', 'endpoint', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await webhooks.backlog()) {
        const labels = { tenant: row.tenantId, endpoint: row.endpointId };
        this.set({ ...labels, status: 'pending' }, row.pending);
        this.set({ ...labels, status: 'dead' }, row.dead);
      }
    },
  });
  return (delivery, outcome, seconds) => {
    const labels = { tenant: delivery.tenantId, endpoint: delivery.endpointId };
    attempts.inc({ ...labels, outcome });
    latency.observe(labels, seconds);
  };
};
