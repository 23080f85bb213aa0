import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@agentledger/testing';
import type { EventBus } from '../bus.ts';
import type { EventEnvelope } from '../envelope.ts';
import { createInMemoryEventStore } from '../memory/index.ts';
import { createInProcessEventBus } from '../bus/in-process-event-bus.ts';
import { createStreamDedupe } from '../bus/stream-dedupe.ts';
import { createOutboxRelay, type OutboxRelay } from './outbox-relay.ts';
import type { RelayLeadership } from './relay-leadership.ts';
import { registerRelayMetrics } from './relay-metrics.ts';

const append = async (store: ReturnType<typeof createInMemoryEventStore>, stream: string, count: number) => {
  for (let i = 0; i < count; i++) {
    await store.append(`session-${stream}`, [{ type: 'UserMessageReceived', data: { i } }], {
      tenantId: 't',
      expectedVersion: 'any',
    });
  }
};

/** A leadership a test hands over by flipping `held`. */
const switchable = (held: boolean) => {
  const state = { held };
  const leadership: RelayLeadership = {
    acquire: async () => state.held,
    isHeld: () => state.held,
    release: async () => undefined,
  };
  return { state, leadership };
};

describe('outbox relay', () => {
  const relays: OutboxRelay[] = [];
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
  });

  const collect = async (bus: EventBus) => {
    const received: EventEnvelope[] = [];
    await bus.subscribe('consumer', async ({ envelope }) => void received.push(envelope), {
      fromBeginning: true,
    });
    return received;
  };

  it('publishes every committed event in stream order and checkpoints after the broker acknowledged', async () => {
    const store = createInMemoryEventStore();
    const bus = createInProcessEventBus();
    const received = await collect(bus);
    await Promise.all(['a', 'b', 'c'].map((stream) => append(store, stream, 40)));
    const relay = createOutboxRelay({ store, bus, batchSize: 16 });
    relays.push(relay);
    relay.start();
    await eventually('all published', () => (received.length === 120 ? true : undefined));
    for (const stream of ['a', 'b', 'c']) {
      const versions = received.filter((e) => e.streamId === `session-${stream}`).map((e) => e.version);
      expect(versions).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    }
    await eventually('the checkpoint', async () =>
      (await store.loadCheckpoint('outbox-relay')) === 120 ? true : undefined,
    );
    expect(relay.status()).toMatchObject({
      leader: true,
      checkpoint: 120,
      lagEvents: 0,
      publishedEvents: 120,
    });
  });

  it('does not lose a wake that comes while it reads: the next pause is cut short', async () => {
    const store = createInMemoryEventStore();
    const bus = createInProcessEventBus();
    const received = await collect(bus);
    let reads = 0;
    const woken = { relay: undefined as OutboxRelay | undefined };
    const racing = {
      ...store,
      // The first empty read: an append commits (and its notification wakes the relay) just
      // after the read saw nothing and before the relay pauses.
      readPage: async (options?: Parameters<typeof store.readPage>[0]) => {
        const page = await store.readPage(options);
        reads += 1;
        if (reads === 1) {
          await append(store, 'late', 1);
          woken.relay?.wake();
        }
        return page;
      },
    };
    const relay = createOutboxRelay({ store: racing, bus, idlePollMs: 600_000 });
    woken.relay = relay;
    relays.push(relay);
    relay.start();
    await eventually('the late event published without waiting for the idle poll', () =>
      received.length === 1 ? true : undefined,
    );
    expect(received[0]?.streamId).toBe('session-late');
  });

  it('keeps the checkpoint when a publish fails and republishes the batch', async () => {
    const store = createInMemoryEventStore();
    const inner = createInProcessEventBus();
    const received = await collect(inner);
    let failures = 2;
    const bus: Pick<EventBus, 'publish'> = {
      publish: async (envelopes) => {
        if (failures-- > 0) throw new Error('broker unavailable');
        await inner.publish(envelopes);
      },
    };
    await append(store, 'x', 10);
    const relay = createOutboxRelay({ store, bus, retryDelayMs: 5 });
    relays.push(relay);
    relay.start();
    await eventually('published after retries', () => (received.length === 10 ? true : undefined));
    expect(relay.status().failures).toBe(0);
    expect(await store.loadCheckpoint('outbox-relay')).toBe(10);
  });

  it('a crash between publish and checkpoint republishes the batch, and dedupe applies each event once', async () => {
    const store = createInMemoryEventStore();
    const bus = createInProcessEventBus();
    const received = await collect(bus);
    await append(store, 'y', 5);
    const crashing = createOutboxRelay({
      store,
      bus,
      retryDelayMs: 5,
      onPublished: () => {
        throw new Error('process died before the checkpoint');
      },
    });
    crashing.start();
    await eventually('the batch published once', () => (received.length >= 5 ? true : undefined));
    await crashing.stop();
    expect(await store.loadCheckpoint('outbox-relay')).toBeUndefined();
    const relay = createOutboxRelay({ store, bus });
    relays.push(relay);
    relay.start();
    await eventually('republished', async () =>
      (await store.loadCheckpoint('outbox-relay')) === 5 ? true : undefined,
    );
    const dedupe = createStreamDedupe();
    const applied = received.filter((e) => {
      if (dedupe.verdict(e).kind !== 'apply') return false;
      dedupe.applied(e);
      return true;
    });
    expect(received.length).toBeGreaterThan(5);
    expect(applied.map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
  });

  it('with checkpointEveryMs, saves at most that often: on a later step when due, and at stop', async () => {
    const store = createInMemoryEventStore();
    const bus = createInProcessEventBus();
    const received = await collect(bus);
    const saves: number[] = [];
    const counting = {
      ...store,
      saveCheckpoint: async (id: string, position: number) => {
        saves.push(position);
        await store.saveCheckpoint(id, position);
      },
    };
    const clock = { now: 0 };
    const relay = createOutboxRelay({
      store: counting,
      bus,
      idlePollMs: 5,
      checkpointEveryMs: 1_000,
      now: () => clock.now,
    });
    relays.push(relay);
    await append(store, 'lazy', 1);
    relay.start();
    await eventually('the first batch, saved at once', () => (saves.length === 1 ? true : undefined));
    await append(store, 'lazy', 2);
    await eventually('published', () => (received.length === 3 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 30)); // a few idle steps: nothing due
    expect(saves).toEqual([1]);
    clock.now = 1_000;
    await eventually('saved once due, by a step that found nothing new', () =>
      saves.length === 2 ? true : undefined,
    );
    expect(saves).toEqual([1, 3]);
    await append(store, 'lazy', 1);
    await eventually('published', () => (received.length === 4 ? true : undefined));
    await relay.stop();
    expect(saves).toEqual([1, 3, 4]);
    expect(await store.loadCheckpoint('outbox-relay')).toBe(4);
  });

  it('only the leader publishes; a standby takes over from the stored checkpoint', async () => {
    const store = createInMemoryEventStore();
    const bus = createInProcessEventBus();
    const received = await collect(bus);
    const first = switchable(true);
    const second = switchable(false);
    const active = createOutboxRelay({ store, bus, leadership: first.leadership, relayId: 'r' });
    const standby = createOutboxRelay({
      store,
      bus,
      leadership: second.leadership,
      relayId: 'r',
      standbyPollMs: 10,
    });
    relays.push(active, standby);
    active.start();
    standby.start();
    await append(store, 'z', 5);
    await eventually('the leader published', () => (received.length === 5 ? true : undefined));
    expect(standby.status()).toMatchObject({ leader: false, publishedEvents: 0 });
    first.state.held = false;
    second.state.held = true;
    await append(store, 'z', 5);
    await eventually('the standby took over', () => (received.length === 10 ? true : undefined));
    expect(received.map((e) => e.version)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(standby.status()).toMatchObject({ leader: true, checkpoint: 10, publishedEvents: 5 });
  });

  it('exposes lag and throughput in the registry it is given', async () => {
    const store = createInMemoryEventStore();
    const relay = createOutboxRelay({ store, bus: createInProcessEventBus() });
    relays.push(relay);
    const registry = new Registry();
    registerRelayMetrics(registry, relay);
    await append(store, 'm', 3);
    relay.start();
    await eventually('published', () => (relay.status().checkpoint === 3 ? true : undefined));
    const text = await registry.metrics();
    expect(text).toContain('agentledger_relay_lag_events 0');
    expect(text).toContain('agentledger_relay_lag_seconds 0');
    expect(text).toContain('agentledger_relay_leader 1');
    expect(text).toContain('agentledger_relay_published_events_total 3');
  });
});
