import type { EventEnvelope } from './envelope.ts';
import { sessionKeyOf } from './session-stream-id.ts';

/** Default topic for session events (docs/architecture.md, Kafka). */
export const SESSION_EVENTS_TOPIC = 'agentledger.session-events';

/** Default partition count of the session-events topic, and of the in-process bus. */
export const DEFAULT_PARTITIONS = 12;

/** The logging surface adapters write to; a Nest `LoggerService` or `console` fits after a thin wrap. */
export type Logger = Readonly<{
  debug: (message: string, fields?: Readonly<Record<string, unknown>>) => void;
  info: (message: string, fields?: Readonly<Record<string, unknown>>) => void;
  warn: (message: string, fields?: Readonly<Record<string, unknown>>) => void;
  error: (message: string, fields?: Readonly<Record<string, unknown>>) => void;
}>;

/** A delivered message: the envelope plus where it came from. */
export type Delivery = Readonly<{
  envelope: EventEnvelope;
  /** The partition key: `<tenantId>/<sessionId>` for session streams, else the stream id. */
  key: string;
  partition: number;
  offset: string;
  /** The partition's next offset when this was fetched (its lag is `highWatermark - offset - 1`), when the adapter knows it. */
  highWatermark?: string;
  /** The message's W3C `traceparent` header (the relay's publish span), if it had one. */
  traceparent?: string;
}>;

export type PublishOptions = Readonly<{
  /** The `traceparent` header of an envelope's message; default the one in its metadata. */
  traceparentOf?: (envelope: EventEnvelope) => string | undefined;
}>;

/**
 * Publish/subscribe of envelopes keyed by stream: ordered per key, at-least-once. Within a
 * partition a subscription hands one delivery at a time to its handler; the delivery's offset is
 * resolved only after the handler returns (the message was handled or parked). A handler that
 * throws gets the same delivery again (and nothing after it in that partition) after a delay.
 */
export type EventBus = Readonly<{
  /** Resolves once the broker has acknowledged every envelope. */
  publish: (envelopes: readonly EventEnvelope[], options?: PublishOptions) => Promise<void>;
  subscribe: (groupId: string, handler: DeliveryHandler, options?: SubscribeOptions) => Promise<Subscription>;
  /** Stops every subscription and disconnects. */
  close: () => Promise<void>;
}>;

export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

export type SubscribeOptions = Readonly<{
  /** Where a group without committed offsets starts: the oldest message (true) or new ones only. */
  fromBeginning?: boolean;
  /**
   * Called with the partitions this member now owns (eager protocol: after every rebalance, with
   * the whole new assignment). Not awaited by the consumer loop; calls are serialised per
   * subscription, so `onRevoked` of one rebalance always runs before `onAssigned` of the next.
   */
  onAssigned?: (partitions: readonly number[]) => void | Promise<void>;
  /** Called with partitions this member gave up (rebalance, leave, crash, stop). */
  onRevoked?: (partitions: readonly number[]) => void | Promise<void>;
  /**
   * How many partitions are handled in parallel; still one delivery at a time per partition.
   * Kafka: default 12 (each partition's batch ends with an offset commit, so handling partitions
   * one by one adds a round trip per partition to every fetch). In-process: all partitions.
   */
  concurrency?: number;
  /** Delay before redelivering after a handler threw. Default 500 ms. */
  retryDelayMs?: number;
}>;

export type Subscription = Readonly<{
  /** Stops new deliveries (backpressure); the in-flight handler, if any, completes. */
  pause: () => void;
  resume: () => void;
  isPaused: () => boolean;
  /** Partitions this member currently owns, as last reported to `onAssigned`. */
  assignment: () => readonly number[];
  /** Leaves the group after in-flight handlers finish and their offsets are committed. */
  stop: () => Promise<void>;
}>;

/** The partition key of an envelope (docs/architecture.md: key = tenant + session id; see `sessionKeyOf`). */
export const partitionKeyOf = (envelope: Pick<EventEnvelope, 'streamId'>): string =>
  sessionKeyOf(envelope.streamId);
