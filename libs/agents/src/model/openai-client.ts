import OpenAI, { AzureOpenAI } from 'openai';
import type {
  ModelClient,
  ModelDelta,
  ModelMessage,
  ModelRequest,
  ModelResponse,
} from '../core/model/model-client.port.ts';
import type { ModelSpec } from '../core/spec/team-spec.ts';
import { ModelCallError } from './model-call-error.ts';
import { assembleStream, finishReasonOf } from './openai-chunks.ts';

export type OpenAIModelClientOptions = Readonly<{
  /** Model name and call settings; its `baseUrl` / `apiKeyEnv`, if any, are ignored. */
  model: ModelSpec;
  /** The operator's endpoint URL (absent: the provider's public API). */
  baseUrl?: string;
  /** Read at each call (rotation takes effect without a restart); the key is never kept. */
  apiKey: () => string | undefined;
  /** False: never stream, even when asked for deltas (the endpoint's `stream: false`). */
  stream?: boolean;
  /** Per attempt; default the spec's `timeoutSeconds`, else 60 s. */
  timeoutMs?: number;
  /** Retries after the first attempt on 429, 5xx, timeouts and connection errors; default spec or 3. */
  maxRetries?: number;
  backoff?: Readonly<{ initialMs: number; maxMs: number }>;
  /** Injected for tests: jitter source and sleeping. */
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  fetch?: typeof fetch;
}>;

const abortableSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ModelCallError('aborted', 'the model call was aborted', true));
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clearTimeout(timer);
      reject(new ModelCallError('aborted', 'the model call was aborted', true));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });

const toOpenAIMessage = (m: ModelMessage): OpenAI.Chat.Completions.ChatCompletionMessageParam => {
  switch (m.role) {
    case 'system':
      return { role: 'system', content: m.content };
    case 'user':
      return m.name
        ? { role: 'user', content: m.content, name: m.name }
        : { role: 'user', content: m.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: m.content,
        ...(m.toolCalls?.length
          ? {
              tool_calls: m.toolCalls.map((tc) => ({
                id: tc.id,
                type: 'function' as const,
                function: { name: tc.name, arguments: tc.arguments },
              })),
            }
          : {}),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  }
};

/** Milliseconds the server asked us to wait (`retry-after-ms`, `retry-after` seconds or date). */
export const retryAfterMs = (headers: Headers | undefined, now: number): number | undefined => {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  if (Number.isFinite(Number(value))) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

/** An upstream `code`/`type` token, if it looks like one (never free text from the body). */
const token = (value: unknown): string | undefined =>
  typeof value === 'string' && /^[A-Za-z0-9_.-]{1,40}$/.test(value) ? value : undefined;

/** `model endpoint answered 429 (rate_limit_exceeded)`: status and code, never the body's text. */
const statusReason = (error: InstanceType<typeof OpenAI.APIError>, status: number): string => {
  const codes = [token(error.code), token(error.type)].filter((c): c is string => c !== undefined);
  const detail = [...new Set(codes)].join(', ');
  return `model endpoint answered ${status}${detail ? ` (${detail})` : ''}`.slice(0, 120);
};

/**
 * Classifies an SDK error: rate limits, 5xx, 408/409, timeouts and lost connections are retryable.
 * Messages are short and fixed in form (they end up in tenant-readable events): upstream bodies
 * are never copied.
 */
export const classifyOpenAIError = (error: unknown, signal?: AbortSignal): ModelCallError => {
  if (error instanceof ModelCallError) return error;
  if (error instanceof OpenAI.APIUserAbortError || signal?.aborted)
    return new ModelCallError('aborted', 'the model call was aborted', true);
  if (error instanceof OpenAI.APIConnectionTimeoutError)
    return new ModelCallError('timeout', 'the model call timed out', true);
  if (error instanceof OpenAI.APIConnectionError)
    return new ModelCallError('connection', 'cannot reach the model endpoint', true);
  if (error instanceof OpenAI.APIError) {
    const status = error.status ?? 0;
    const message = statusReason(error, status);
    if (status === 429) return new ModelCallError('rate_limited', message, true, status);
    if (status >= 500) return new ModelCallError('server_error', message, true, status);
    if (status === 408 || status === 409)
      return new ModelCallError('conflict_or_timeout', message, true, status);
    if (status === 401) return new ModelCallError('authentication', message, false, status);
    if (status === 403) return new ModelCallError('permission', message, false, status);
    if (status === 404) return new ModelCallError('not_found', message, false, status);
    return new ModelCallError('bad_request', message, false, status);
  }
  return new ModelCallError('invalid_response', 'the model endpoint returned an invalid response', false);
};

/**
 * A model client for any OpenAI-compatible endpoint (OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio)
 * on the official SDK. The SDK's own retries are off: ours back off exponentially with jitter,
 * honour `retry-after`, and stop at once on errors that retrying cannot fix.
 */
export const createOpenAIModelClient = (options: OpenAIModelClientOptions): ModelClient => {
  const spec = options.model;
  const timeoutMs = options.timeoutMs ?? (spec.timeoutSeconds ? spec.timeoutSeconds * 1000 : 60_000);
  const maxRetries = options.maxRetries ?? spec.maxRetries ?? 3;
  const backoff = options.backoff ?? { initialMs: 500, maxMs: 8_000 };
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;

  const baseUrl = options.baseUrl;
  const client = (): OpenAI => {
    const key = options.apiKey();
    if (!key && !baseUrl)
      throw new ModelCallError('authentication', 'the model endpoint has no API key configured', false);
    const common = {
      apiKey: key || 'not-needed',
      timeout: timeoutMs,
      maxRetries: 0,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    };
    if (spec.provider === 'azure_openai')
      return new AzureOpenAI({
        ...common,
        ...(baseUrl ? { endpoint: baseUrl } : {}),
        apiVersion: spec.apiVersion ?? '2024-10-21',
        deployment: spec.deployment ?? spec.model,
      });
    return new OpenAI({ ...common, ...(baseUrl ? { baseURL: baseUrl } : {}) });
  };

  const body = (request: ModelRequest) => {
    const tools = request.tools.map((t) => ({
      type: 'function' as const,
      function: { name: t.name, description: t.description, parameters: { ...t.parameters } },
    }));
    return {
      model: spec.model,
      messages: request.messages.map(toOpenAIMessage),
      ...(tools.length > 0 ? { tools, tool_choice: request.toolChoice ?? 'auto' } : {}),
      ...(tools.length > 0 && request.parallelToolCalls !== undefined
        ? { parallel_tool_calls: request.parallelToolCalls }
        : {}),
      ...(spec.temperature === undefined ? {} : { temperature: spec.temperature }),
      ...(spec.maxTokens === undefined ? {} : { max_tokens: spec.maxTokens }),
    };
  };
  /**
   * The call's idempotency key, and its attempt as the SDK's own retry count header: the SDK's
   * retries are off, so without it every attempt would tell the provider it is a first one.
   */
  const requestOptions = (request: ModelRequest, attempt: number, signal?: AbortSignal) => ({
    ...(signal ? { signal } : {}),
    headers: { 'Idempotency-Key': request.idempotencyKey, 'X-Stainless-Retry-Count': String(attempt) },
  });

  const once = async (
    request: ModelRequest,
    attempt: number,
    signal?: AbortSignal,
  ): Promise<ModelResponse> => {
    const completion = await client().chat.completions.create(
      { ...body(request), stream: false },
      requestOptions(request, attempt, signal),
    );
    const choice = completion.choices?.[0];
    if (!choice) throw new ModelCallError('invalid_response', 'the model returned no choices', true);
    const toolCalls = (choice.message.tool_calls ?? []).flatMap((tc) =>
      tc.type === 'function' ? [{ id: tc.id, name: tc.function.name, arguments: tc.function.arguments }] : [],
    );
    return {
      content: choice.message.content ?? null,
      toolCalls,
      usage: {
        promptTokens: completion.usage?.prompt_tokens ?? 0,
        completionTokens: completion.usage?.completion_tokens ?? 0,
      },
      finishReason: finishReasonOf(choice.finish_reason),
      ...(completion.model ? { model: completion.model } : {}),
    };
  };

  /** The same call streamed (usage in the last chunk); pieces go to `onDelta`, the whole is assembled. */
  const streamed = async (
    request: ModelRequest,
    onDelta: (delta: ModelDelta) => void,
    attempt: number,
    signal?: AbortSignal,
  ): Promise<ModelResponse> => {
    const chunks = await client().chat.completions.create(
      { ...body(request), stream: true, stream_options: { include_usage: true } },
      requestOptions(request, attempt, signal),
    );
    const answer = assembleStream();
    for await (const chunk of chunks) for (const delta of answer.add(chunk, attempt)) onDelta(delta);
    // An aborted stream just ends: it is the abort, not an answer cut short.
    if (signal?.aborted) throw new ModelCallError('aborted', 'the model call was aborted', true);
    return answer.response();
  };

  return {
    complete: async (request, { signal, onDelta }) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return onDelta && options.stream !== false
            ? await streamed(request, onDelta, attempt, signal)
            : await once(request, attempt, signal);
        } catch (raw) {
          const error = classifyOpenAIError(raw, signal);
          if (!error.retryable || attempt >= maxRetries || signal?.aborted) throw error;
          const headers = raw instanceof OpenAI.APIError ? raw.headers : undefined;
          const exponential = Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt);
          const jittered = exponential * (0.5 + random() / 2);
          const asked = retryAfterMs(headers, Date.now());
          await sleep(asked === undefined ? jittered : Math.min(asked, 60_000), signal);
        }
      }
    },
  };
};
