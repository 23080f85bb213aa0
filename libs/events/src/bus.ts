import type { EventEnvelope } from './envelope.ts';

/** Default topic for session events (DESIGN.md, Kafka). */
export const SESSION_EVENTS_TOPIC = 'agentledger.session-events';

/** A delivered message: the envelope plus where it came from, to resolve its offset. */
export type Delivery = Readonly<{ envelope: EventEnvelope; partition: number; offset: string }>;

/**
 * Publish/subscribe of envelopes keyed by stream id: ordered per key, at-least-once. An offset is
 * resolved only after the handler for its message has returned (handled or parked).
 */
export type EventBus = Readonly<{
  /** Resolves once the broker has acknowledged every envelope. */
  publish: (envelopes: readonly EventEnvelope[]) => Promise<void>;
  subscribe: (groupId: string, handler: DeliveryHandler, options?: SubscribeOptions) => Promise<Subscription>;
  close: () => Promise<void>;
}>;

export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

export type SubscribeOptions = Readonly<{
  fromBeginning?: boolean;
  onAssigned?: (partitions: readonly number[]) => void | Promise<void>;
  onRevoked?: (partitions: readonly number[]) => void | Promise<void>;
}>;

export type Subscription = Readonly<{
  pause: () => void;
  resume: () => void;
  /** Leaves the group after in-flight handlers finish and their offsets are committed. */
  stop: () => Promise<void>;
}>;
