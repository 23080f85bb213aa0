export { createPlatformaticEventBus, type PlatformaticEventBusOptions } from './platformatic-event-bus.ts';
export { ensurePlatformaticTopic, type EnsurePlatformaticTopicOptions } from './platformatic-topics.ts';
export { javaCompatiblePartitioner, type PlatformaticClientOptions } from './platformatic-client.ts';
