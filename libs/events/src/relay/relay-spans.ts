import { recordFailure, SpanKind, startSpan, traceparentOf, type Span } from '@agentledger/telemetry';
import type { PublishOptions } from '../bus.ts';
import type { EventEnvelope } from '../envelope.ts';

/**
 * Runs `publish` with one producer span per event that carries a `traceparent` (a child of it),
 * and gives each message that span's `traceparent` header: the consumer's span follows the relay's.
 * The envelope, hashed and stored, is never changed.
 */
export const publishTraced = async (
  batch: readonly EventEnvelope[],
  publish: (options: PublishOptions) => Promise<void>,
): Promise<void> => {
  const spans = new Map<string, Span>();
  for (const envelope of batch) {
    if (envelope.metadata.traceparent === undefined) continue;
    const span = startSpan('publish session-events', {
      kind: SpanKind.PRODUCER,
      traceparent: envelope.metadata.traceparent,
      attributes: {
        'messaging.operation.type': 'send',
        'messaging.message.id': envelope.eventId,
        'agentledger.event.type': envelope.type,
        'agentledger.event.version': envelope.version,
      },
    });
    spans.set(envelope.eventId, span);
  }
  try {
    await publish({ traceparentOf: (envelope) => traceparentOf(spans.get(envelope.eventId)) });
  } catch (error) {
    for (const span of spans.values()) recordFailure(span, error);
    throw error;
  } finally {
    for (const span of spans.values()) span.end();
  }
};
