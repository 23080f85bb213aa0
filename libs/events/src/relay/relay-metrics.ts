import { Counter, Gauge, type Registry } from 'prom-client';
import type { OutboxRelay } from './outbox-relay.ts';

/**
 * Registers the relay's lag and throughput in `registry` (never the global default), read from
 * `relay.status()` at each scrape.
 */
export const registerRelayMetrics = (registry: Registry, relay: Pick<OutboxRelay, 'status'>): void => {
  const registers = [registry];
  new Gauge({
    name: 'agentledger_relay_lag_events',
    help: 'Committed events not yet published to the bus',
    registers,
    collect() {
      this.set(relay.status().lagEvents);
    },
  });
  new Gauge({
    name: 'agentledger_relay_lag_seconds',
    help: 'Age of the oldest committed event not yet published (0 when caught up)',
    registers,
    collect() {
      this.set(relay.status().lagMs / 1_000);
    },
  });
  new Gauge({
    name: 'agentledger_relay_leader',
    help: '1 when this process is the active relay',
    registers,
    collect() {
      this.set(relay.status().leader ? 1 : 0);
    },
  });
  new Gauge({
    name: 'agentledger_relay_checkpoint_position',
    help: 'Global position published and checkpointed up to',
    registers,
    collect() {
      this.set(relay.status().checkpoint);
    },
  });
  let published = 0;
  new Counter({
    name: 'agentledger_relay_published_events_total',
    help: 'Events published by this process',
    registers,
    collect() {
      const now = relay.status().publishedEvents;
      this.inc(now - published);
      published = now;
    },
  });
};
