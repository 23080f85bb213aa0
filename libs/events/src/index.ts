export type { EventEnvelope, EventMetadata, NewEvent } from './envelope.ts';
export type {
  AppendOptions,
  AppendResult,
  EventStore,
  ExpectedVersion,
  ReadAllOptions,
  ReadStreamOptions,
} from './store.ts';
export {
  SESSION_EVENTS_TOPIC,
  type Delivery,
  type DeliveryHandler,
  type EventBus,
  type SubscribeOptions,
  type Subscription,
} from './bus.ts';
