import { createSseParser } from './sse.ts';
import type { Transport } from './transport.ts';
import type { EventEnvelope, ModelOutputDelta } from './types.ts';

/**
 * What the session stream yields: committed events (SSE frames with `id: <version>`), and
 * `event: delta` frames (no id: partial model output, never replayed on resume).
 */
export type StreamItem =
  Readonly<{ kind: 'event'; event: EventEnvelope }> | Readonly<{ kind: 'delta'; data: ModelOutputDelta }>;

export type FollowOptions = Readonly<{
  /** Exclusive version to start after; default 0 (from the first event). */
  after?: number;
  signal?: AbortSignal;
  /** Reconnections in a row without a new event before giving up. Default 5. */
  maxReconnects?: number;
}>;

export type FollowDeps = Readonly<{
  transport: Transport;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  backoff: (attempt: number) => number;
}>;

/** A delta frame's data, or undefined when it is not one (skipped: deltas are best effort). */
const parseDelta = (data: string): ModelOutputDelta | undefined => {
  try {
    const value = JSON.parse(data) as Partial<ModelOutputDelta> | null;
    return typeof value?.callId === 'string' &&
      typeof value.seq === 'number' &&
      typeof value.kind === 'string'
      ? (value as ModelOutputDelta)
      : undefined;
  } catch {
    return undefined;
  }
};

/** The frames of one connection, in order; ends (or throws) when the connection does. */
async function* readFrames(body: ReadableStream<Uint8Array>) {
  const parser = createSseParser();
  const decoder = new TextDecoder();
  for await (const chunk of body) yield* parser.push(decoder.decode(chunk, { stream: true }));
}

/**
 * Follows a session's SSE stream, reconnecting after a dropped or ended connection with
 * `Last-Event-ID` set to the last version it yielded, so no event is missed or repeated (versions
 * have no gaps; a replayed version is skipped). Stops when `signal` aborts or the caller breaks
 * out; throws after `maxReconnects` reconnections in a row that brought no new event.
 */
export async function* followSession(
  deps: FollowDeps,
  sessionId: string,
  options: FollowOptions = {},
): AsyncGenerator<StreamItem> {
  let last = options.after ?? 0;
  let failures = 0;
  const maxReconnects = options.maxReconnects ?? 5;
  while (!options.signal?.aborted) {
    const connection = new AbortController();
    const stop = (): void => connection.abort();
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      // Connecting: the transport retries network errors and 429/503; anything else is thrown.
      const response = await deps.transport.send({
        operation: 'streamEvents',
        params: { id: sessionId },
        headers: { accept: 'text/event-stream', ...(last > 0 ? { 'last-event-id': String(last) } : {}) },
        signal: connection.signal,
      });
      if (response.body === null) throw new Error('the stream answered without a body');
      try {
        for await (const frame of readFrames(response.body)) {
          if (frame.id === undefined || frame.id === '') {
            const delta = frame.event === 'delta' ? parseDelta(frame.data) : undefined;
            if (delta !== undefined) yield { kind: 'delta', data: delta };
            continue;
          }
          const version = Number(frame.id);
          if (!Number.isSafeInteger(version) || version <= last) continue;
          last = version;
          failures = 0;
          yield { kind: 'event', event: JSON.parse(frame.data) as EventEnvelope };
        }
      } catch (dropped) {
        // A dropped connection (reset, terminated): reconnect below, unless the caller stopped.
        if (options.signal?.aborted) return;
        if (!(dropped instanceof TypeError) && !(dropped instanceof DOMException)) throw dropped;
      }
    } finally {
      options.signal?.removeEventListener('abort', stop);
      connection.abort();
    }
    failures += 1;
    if (failures > maxReconnects)
      throw new Error(
        `session ${sessionId}: the stream dropped ${failures} times in a row without a new event`,
      );
    await deps.sleep(deps.backoff(failures), options.signal).catch(() => undefined);
  }
}
