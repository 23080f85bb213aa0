import { expandPath, operations, type OperationId, type OperationShape } from './operations.ts';
import { toProblemError } from './problem-error.ts';

/** How calls are retried: network errors, 429 and 503 (honouring `Retry-After`). */
export type RetryPolicy = Readonly<{
  /** Tries in all, the first included. Default 4. */
  maxAttempts: number;
  /** Backoff without `Retry-After`: base × 2^(try − 1). Default 200 ms. */
  baseDelayMs: number;
  /** No wait is longer, whatever `Retry-After` asks. Default 10 s. */
  maxDelayMs: number;
}>;

export type ClientOptions = Readonly<{
  /** The gateway's URL, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  apiKey: string;
  retry?: Partial<RetryPolicy>;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Defaults to a timer; tests pass one that records the waits. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A new idempotency key for a mutating call that was given none. Default `crypto.randomUUID`. */
  newIdempotencyKey?: () => string;
}>;

export type Call = Readonly<{
  operation: OperationId;
  params?: Readonly<Record<string, string>>;
  query?: Readonly<Record<string, string | number | undefined>>;
  body?: unknown;
  /** Sent as `Idempotency-Key` (mutating calls get one anyway): the same on every retry. */
  idempotencyKey?: string;
  headers?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
}>;

export type Transport = Readonly<{
  /** The answer when its status is one the operation expects; else throws a ProblemError. */
  send: (call: Call) => Promise<Response>;
  /** The client's wait (honours the signal) and its backoff for the n-th retry. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  backoff: (attempt: number) => number;
}>;

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      if (signal?.aborted) reject(signal.reason);
      else resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export const retryAfterMs = (value: string | null, now: number): number | undefined => {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

const buildUrl = (baseUrl: string, call: Call): string => {
  const url = new URL(expandPath(operations[call.operation].path, call.params ?? {}), baseUrl);
  for (const [name, value] of Object.entries(call.query ?? {}))
    if (value !== undefined) url.searchParams.set(name, String(value));
  return url.toString();
};

/**
 * The HTTP side of the client: auth, JSON, one idempotency key per logical call reused by every
 * retry (so a retried POST whose first answer was lost is answered, not applied twice), bounded
 * retries on network errors and 429/503, and problem+json errors as ProblemError.
 */
export const createTransport = (options: ClientOptions): Transport => {
  const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 10_000, ...options.retry };
  const fetchFn = options.fetch ?? globalThis.fetch;
  const sleep = options.sleep ?? defaultSleep;
  const newKey = options.newIdempotencyKey ?? (() => crypto.randomUUID());
  const backoff = (attempt: number): number =>
    Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));

  const send = async (call: Call): Promise<Response> => {
    const operation = operations[call.operation];
    const mutating = (operation.headers as readonly string[]).includes('idempotency-key');
    const shape: OperationShape = operation;
    const raw = shape.bodyContentType !== undefined;
    if (raw && typeof call.body !== 'string')
      throw new TypeError(`${call.operation} sends ${shape.bodyContentType} text as its body`);
    const body =
      call.body === undefined ? undefined : raw ? (call.body as string) : JSON.stringify(call.body);
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': shape.bodyContentType ?? 'application/json' }),
      ...(mutating ? { 'idempotency-key': call.idempotencyKey ?? newKey() } : {}),
      ...call.headers,
    };
    const url = buildUrl(options.baseUrl, call);
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetchFn(url, {
          method: operation.method.toUpperCase(),
          headers,
          body,
          signal: call.signal,
        });
      } catch (error) {
        if (call.signal?.aborted || attempt >= policy.maxAttempts) throw error;
        await sleep(backoff(attempt), call.signal);
        continue;
      }
      if ((operation.success as readonly number[]).includes(response.status)) return response;
      if ((response.status === 429 || response.status === 503) && attempt < policy.maxAttempts) {
        const asked = retryAfterMs(response.headers.get('retry-after'), Date.now());
        await response.body?.cancel();
        await sleep(Math.min(policy.maxDelayMs, asked ?? backoff(attempt)), call.signal);
        continue;
      }
      throw await toProblemError(response);
    }
  };
  return { send, sleep, backoff };
};
