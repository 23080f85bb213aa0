import { describe, expect, it } from 'vitest';
import { createAgentLedgerClient } from './client.ts';
import { ProblemError } from './problem-error.ts';
import type { StreamItem } from './follow-session.ts';
import type { ModelOutputDelta } from './types.ts';

type Seen = { url: string; method: string; headers: Headers; body: string | undefined };

/** A fetch that answers from a list (a Response, or an Error to throw) and records each request. */
const scriptedFetch = (answers: (Response | Error | (() => Response))[]) => {
  const seen: Seen[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    seen.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: init?.body as string | undefined,
    });
    const answer = answers.shift();
    if (answer === undefined) throw new Error('no answer scripted');
    if (answer instanceof Error) throw answer;
    return typeof answer === 'function' ? answer() : answer;
  };
  return { fetch: fetch as typeof globalThis.fetch, seen };
};

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const problem = (status: number, code: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: 'about:blank', title: 'T', status, detail: `d ${code}`, code }), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });

const clientWith = (answers: Parameters<typeof scriptedFetch>[0], maxAttempts = 4) => {
  const { fetch, seen } = scriptedFetch(answers);
  const waits: number[] = [];
  let keys = 0;
  const client = createAgentLedgerClient({
    baseUrl: 'http://gateway.test',
    apiKey: 'k',
    fetch,
    retry: { maxAttempts, baseDelayMs: 100, maxDelayMs: 5_000 },
    sleep: async (ms) => void waits.push(ms),
    newIdempotencyKey: () => `key-${++keys}`,
  });
  return { client, seen, waits };
};

const summary = { sessionId: 's-1', status: 'idle', version: 1 };

describe('retries', () => {
  it('retries a 503 after Retry-After seconds with the same idempotency key', async () => {
    const { client, seen, waits } = clientWith([
      problem(503, 'unavailable', { 'retry-after': '2' }),
      json(201, summary),
    ]);
    expect(await client.createSession({ teamId: 't' })).toEqual(summary);
    expect(waits).toEqual([2000]);
    expect(seen.map((s) => s.headers.get('idempotency-key'))).toEqual(['key-1', 'key-1']);
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer k');
    expect(seen[1]!.body).toBe('{"teamId":"t"}');
  });

  it('retries a network error with backoff and the caller-given key, and bounds Retry-After', async () => {
    const { client, seen, waits } = clientWith([
      new TypeError('fetch failed'),
      problem(429, 'rate_limited', { 'retry-after': '3600' }),
      json(202, { messageId: 'm', version: 2 }),
    ]);
    const result = await client.postMessage('s-1', 'hi', { idempotencyKey: 'mine', wait: 5 });
    expect(result).toEqual({ outcome: 'accepted', accepted: { messageId: 'm', version: 2 } });
    expect(waits).toEqual([100, 5000]);
    expect(seen.map((s) => s.headers.get('idempotency-key'))).toEqual(['mine', 'mine', 'mine']);
    expect(seen[0]!.url).toBe('http://gateway.test/v1/sessions/s-1/messages?wait=5');
  });

  it('gives up after maxAttempts with the last problem', async () => {
    const { client, seen } = clientWith(
      [problem(503, 'a'), problem(503, 'b'), problem(503, 'c', { 'retry-after': '1' })],
      3,
    );
    const error = await client.getSession('s-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).code).toBe('c');
    expect(seen).toHaveLength(3);
  });

  it('does not retry other errors and surfaces the problem+json', async () => {
    const { client, seen } = clientWith([problem(404, 'session_not_found')]);
    const error = (await client.getSession('nope', { at: 3 }).catch((e: unknown) => e)) as ProblemError;
    expect(error).toBeInstanceOf(ProblemError);
    expect(error.status).toBe(404);
    expect(error.problem).toMatchObject({ code: 'session_not_found', detail: 'd session_not_found' });
    expect(seen.map((s) => s.url)).toEqual(['http://gateway.test/v1/sessions/nope?at=3']);
  });

  it('turns a non-problem error body into a problem', async () => {
    const { client } = clientWith([
      new Response('gateway timeout', { status: 504, statusText: 'Gateway Timeout' }),
    ]);
    const error = (await client.live().catch((e: unknown) => e)) as ProblemError;
    expect(error.problem).toMatchObject({ status: 504, title: 'Gateway Timeout', detail: 'gateway timeout' });
  });
});

const sse =
  (text: string, fail = false) =>
  () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(text));
        },
        // Only once the text was read: erroring in start would discard it.
        pull(controller) {
          if (fail) controller.error(new TypeError('terminated'));
          else controller.close();
        },
      }),
      { status: 200, headers: { 'content-type': 'text/event-stream' } },
    );
const frame = (version: number) =>
  `id: ${version}\nevent: E${version}\ndata: ${JSON.stringify({ version, type: `E${version}` })}\n\n`;

describe('export and import', () => {
  const bundle = '{"manifest":true}\n{"version":1}\n';

  it('reads the export as NDJSON text and sends the import as NDJSON, not JSON', async () => {
    const imported = { sessionId: 's-1', duplicate: true };
    const { client, seen } = clientWith([
      new Response(bundle, { status: 200, headers: { 'content-type': 'application/x-ndjson' } }),
      json(201, imported),
    ]);
    expect(await client.exportSession('s 1')).toBe(bundle);
    expect(await client.importSession(bundle)).toEqual(imported);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET http://gateway.test/v1/sessions/s%201/export',
      'POST http://gateway.test/v1/sessions:import',
    ]);
    expect(seen[1]!.headers.get('content-type')).toBe('application/x-ndjson');
    expect(seen[1]!.body).toBe(bundle);
  });

  it('surfaces a bundle that does not verify as a ProblemError naming the field', async () => {
    const rejected = new Response(
      JSON.stringify({
        type: 'about:blank',
        title: 'Unprocessable',
        status: 422,
        detail: 'bundle rejected',
        code: 'unprocessable',
        errors: [{ in: 'body', field: 'events[1]', message: 'hash mismatch' }],
      }),
      { status: 422, headers: { 'content-type': 'application/problem+json' } },
    );
    const { client, seen } = clientWith([rejected]);
    const error = (await client.importSession(bundle).catch((e: unknown) => e)) as ProblemError;
    expect(error).toBeInstanceOf(ProblemError);
    expect(error.status).toBe(422);
    expect(error.problem.errors?.map((e) => e.field)).toEqual(['events[1]']);
    expect(seen).toHaveLength(1);
  });
});

describe('streamEvents', () => {
  const delta: ModelOutputDelta = {
    tenantId: 'acme',
    sessionId: 's-1',
    callId: 't1.s1.m1',
    turnId: 't1',
    agent: 'writer',
    attempt: 0,
    seq: 0,
    kind: 'text',
    text: 'H',
  };
  it('resumes after a dropped connection from the last event id, skipping replays, passing deltas', async () => {
    const { client, seen } = clientWith([
      sse(
        `retry: 1000\n\n${frame(1)}event: delta\ndata: ${JSON.stringify(delta)}\n\nevent: delta\ndata: not json\n\n${frame(2)}`,
        true,
      ),
      sse(`${frame(2)}${frame(3)}`),
    ]);
    const items: StreamItem[] = [];
    for await (const item of client.streamEvents('s-1')) {
      items.push(item);
      if (item.kind === 'event' && item.event.version === 3) break;
    }
    expect(items.map((i) => (i.kind === 'event' ? i.event.version : i.data))).toEqual([1, delta, 2, 3]);
    expect(seen.map((s) => s.headers.get('last-event-id'))).toEqual([null, '2']);
    expect(seen[0]!.headers.get('accept')).toBe('text/event-stream');
  });

  it('gives up after maxReconnects drops without a new event', async () => {
    const { client, seen } = clientWith([sse(frame(1), true), sse('', true), sse('', true)]);
    const versions: number[] = [];
    const run = async () => {
      for await (const item of client.streamEvents('s-1', { maxReconnects: 2 }))
        if (item.kind === 'event') versions.push(item.event.version);
    };
    await expect(run()).rejects.toThrow(/dropped 3 times in a row/);
    expect(versions).toEqual([1]);
    expect(seen).toHaveLength(3);
  });
});

describe('listSessions', () => {
  it('sends the creation-time filters as query parameters', async () => {
    const { client, seen } = clientWith([json(200, { items: [], nextCursor: null })]);
    await client.listSessions({
      teamId: 'support',
      createdAfter: '2026-01-01',
      createdBefore: '2026-02-01T00:00:00+01:00',
      limit: 10,
    });
    const url = new URL(seen[0]!.url);
    expect(url.pathname).toBe('/v1/sessions');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      teamId: 'support',
      createdAfter: '2026-01-01',
      createdBefore: '2026-02-01T00:00:00+01:00',
      limit: '10',
    });
  });
});
