import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer of the fake server. */
export type FakeReply =
  | Readonly<{
      kind: 'message';
      content?: string | null;
      toolCalls?: readonly Readonly<{ id?: string; name: string; arguments: string }>[];
      usage?: Readonly<{ promptTokens: number; completionTokens: number }>;
      finishReason?: string;
      delayMs?: number;
      /** Streamed answers: the wait before each chunk after the first (a stalled model). */
      chunkDelayMs?: number;
    }>
  | Readonly<{
      kind: 'error';
      status: number;
      message?: string;
      headers?: Readonly<Record<string, string>>;
      delayMs?: number;
    }>
  /** Anything on the wire, e.g. a body that is not JSON. */
  | Readonly<{
      kind: 'raw';
      status: number;
      body: string;
      headers?: Readonly<Record<string, string>>;
      delayMs?: number;
    }>;

export type RecordedRequest = Readonly<{
  method: string;
  path: string;
  /** The query string, e.g. Azure's `api-version`. */
  query: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: unknown;
}>;

export type FakeOpenAIServer = Readonly<{
  /** `http://127.0.0.1:<port>/v1`: what the SDK takes as `baseURL`. */
  baseUrl: string;
  requests: readonly RecordedRequest[];
  /** Requests whose client went away before the (delayed) answer was sent: an aborted call. */
  aborted: readonly RecordedRequest[];
  /** Queues replies, answered in order; when the queue is empty `fallback` answers. */
  enqueue: (...replies: readonly FakeReply[]) => void;
  /** A function also gets the recorded request (headers such as `idempotency-key`). */
  setFallback: (reply: FakeReply | ((body: unknown, request: RecordedRequest) => FakeReply)) => void;
  close: () => Promise<void>;
}>;

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

type MessageReply = Extract<FakeReply, { kind: 'message' }>;

const toolCallsOf = (reply: MessageReply, n: number) =>
  (reply.toolCalls ?? []).map((tc, i) => ({
    id: tc.id ?? `call_${n}_${i}`,
    type: 'function',
    function: { name: tc.name, arguments: tc.arguments },
  }));

const usageOf = (reply: MessageReply) => {
  const usage = reply.usage ?? { promptTokens: 10, completionTokens: 5 };
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
};

const completionBody = (reply: MessageReply, model: string, n: number): unknown => {
  const toolCalls = toolCallsOf(reply, n);
  return {
    id: `chatcmpl-fake-${n}`,
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.content ?? null,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
      },
    ],
    usage: usageOf(reply),
  };
};

/** Word by word (spaces kept), as a model emits tokens. */
const pieces = (text: string): string[] => text.match(/\S+\s*|\s+/g) ?? [];

/**
 * The chunks OpenAI streams for the same answer: role, content pieces, each tool call's id and
 * name then its arguments in pieces, the finish reason, and (asked with `include_usage`) a last
 * chunk with usage and no choices.
 */
const completionChunks = (reply: MessageReply, model: string, n: number, withUsage: boolean): unknown[] => {
  const toolCalls = toolCallsOf(reply, n);
  const chunk = (delta: unknown, finishReason: string | null = null) => ({
    id: `chatcmpl-fake-${n}`,
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(withUsage ? { usage: null } : {}),
  });
  const content = reply.content ?? null;
  return [
    chunk({ role: 'assistant', content: content === null ? null : '', refusal: null }),
    ...pieces(content ?? '').map((text) => chunk({ content: text })),
    ...toolCalls.flatMap((tc, index) => [
      chunk({
        tool_calls: [
          { index, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: '' } },
        ],
      }),
      ...(tc.function.arguments.match(/[\s\S]{1,8}/g) ?? []).map((args) =>
        chunk({ tool_calls: [{ index, function: { arguments: args } }] }),
      ),
    ]),
    chunk({}, reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop')),
    ...(withUsage
      ? [
          {
            id: `chatcmpl-fake-${n}`,
            object: 'chat.completion.chunk',
            created: 1_700_000_000,
            model,
            choices: [],
            usage: usageOf(reply),
          },
        ]
      : []),
  ];
};

/** Waits `ms` unless the client disconnects first: false when it did (the call was aborted). */
const answeredAfter = (ms: number, res: ServerResponse): Promise<boolean> =>
  new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });

/** Writes `chunks` as server-sent events, `delayMs` apart: false when the client went away first. */
const streamChunks = async (
  res: ServerResponse,
  chunks: readonly unknown[],
  delayMs: number,
): Promise<boolean> => {
  if (res.destroyed) return false;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const [i, chunk] of chunks.entries()) {
    if (i > 0 && delayMs > 0 && !(await answeredAfter(delayMs, res))) return false;
    if (res.destroyed) return false;
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }
  res.end('data: [DONE]\n\n');
  return true;
};

/**
 * A fake OpenAI-compatible server on 127.0.0.1 that speaks the real wire format (chat completions
 * with `tool_calls` and usage, whole or streamed as chunks) and answers from a script: 429 with
 * `retry-after`, 500, slow answers, malformed tool arguments. Test helper; never used in production.
 */
export const startFakeOpenAIServer = async (): Promise<FakeOpenAIServer> => {
  let completions = 0;
  const queue: FakeReply[] = [];
  const requests: RecordedRequest[] = [];
  const aborted: RecordedRequest[] = [];
  let fallback: FakeReply | ((body: unknown, request: RecordedRequest) => FakeReply) = {
    kind: 'message',
    content: 'ok',
  };

  const send = (
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ): void => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };

  const server = createServer((req, res) => {
    void (async () => {
      const text = await readBody(req);
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // recorded as text
      }
      const path = (req.url ?? '/').split('?')[0]!;
      const query = (req.url ?? '').split('?')[1] ?? '';
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path,
        query,
        headers: req.headers,
        body,
      };
      requests.push(recorded);
      if (req.method === 'GET' && path.endsWith('/models'))
        return send(
          res,
          200,
          JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model' }] }),
        );
      if (req.method !== 'POST' || !path.endsWith('/chat/completions'))
        return send(
          res,
          404,
          JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }),
        );
      const request = (typeof body === 'object' && body !== null ? body : {}) as {
        stream?: boolean;
        stream_options?: { include_usage?: boolean };
        model?: string;
      };
      const reply = queue.shift() ?? (typeof fallback === 'function' ? fallback(body, recorded) : fallback);
      if (reply.delayMs && !(await answeredAfter(reply.delayMs, res))) {
        aborted.push(recorded);
        return;
      }
      switch (reply.kind) {
        case 'message': {
          completions += 1;
          const model = request.model ?? 'fake-model';
          if (!request.stream)
            return send(res, 200, JSON.stringify(completionBody(reply, model, completions)));
          const chunks = completionChunks(
            reply,
            model,
            completions,
            request.stream_options?.include_usage === true,
          );
          if (!(await streamChunks(res, chunks, reply.chunkDelayMs ?? 0))) aborted.push(recorded);
          return;
        }
        case 'error':
          return send(
            res,
            reply.status,
            JSON.stringify({
              error: {
                message: reply.message ?? `fake error ${reply.status}`,
                type: 'fake_error',
                code: null,
              },
            }),
            { ...reply.headers },
          );
        case 'raw':
          return send(res, reply.status, reply.body, { ...reply.headers });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    aborted,
    enqueue: (...replies) => queue.push(...replies),
    setFallback: (reply) => {
      fallback = reply;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
