import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../testing/fake-openai-server.ts';
import type { ModelRequest } from '../core/model/model-client.port.ts';
import { ModelCallError } from './model-call-error.ts';
import { createOpenAIModelClient } from './openai-client.ts';

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await startFakeOpenAIServer();
});
afterAll(() => server.close());
beforeEach(() => server.setFallback({ kind: 'message', content: 'ok' }));

const env = { TEST_KEY: 'sk-test' };
const request: ModelRequest = {
  messages: [
    { role: 'system', content: 'You are helpful.' },
    { role: 'user', content: 'What is 2 + 3?' },
  ],
  tools: [
    {
      name: 'calculator',
      description: 'calc',
      parameters: { type: 'object', properties: { a: { type: 'number' } }, required: ['a'] },
    },
  ],
  agent: 'assistant',
  purpose: 'agent',
  idempotencyKey: 's1:t1.s1.m1',
};

const client = (extra: Partial<Parameters<typeof createOpenAIModelClient>[0]> = {}) => {
  const sleeps: number[] = [];
  const c = createOpenAIModelClient({
    model: { provider: 'openai', model: 'gpt-test' },
    baseUrl: server.baseUrl,
    apiKey: () => env.TEST_KEY,
    maxRetries: 2,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  return { c, sleeps };
};

describe('OpenAI adapter through the real SDK against the fake server', () => {
  it('sends messages, tools, the key and the idempotency key; parses tool calls and usage', async () => {
    server.enqueue({
      kind: 'message',
      toolCalls: [{ id: 'call_9', name: 'calculator', arguments: '{"a":2}' }],
      usage: { promptTokens: 21, completionTokens: 7 },
    });
    const before = server.requests.length;
    const response = await client().c.complete(request, {});
    expect(response).toEqual({
      content: null,
      toolCalls: [{ id: 'call_9', name: 'calculator', arguments: '{"a":2}' }],
      usage: { promptTokens: 21, completionTokens: 7 },
      finishReason: 'tool_calls',
      model: 'gpt-test',
    });
    const sent = server.requests[before]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers['authorization']).toBe('Bearer sk-test');
    expect(sent.headers['idempotency-key']).toBe('s1:t1.s1.m1');
    expect(sent.body).toMatchObject({
      model: 'gpt-test',
      stream: false,
      tool_choice: 'auto',
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: 'What is 2 + 3?' },
      ],
      tools: [{ type: 'function', function: { name: 'calculator', description: 'calc' } }],
    });
  });

  it('retries a 429 after the server-given retry-after, then succeeds', async () => {
    server.enqueue(
      { kind: 'error', status: 429, headers: { 'retry-after': '2' } },
      { kind: 'message', content: 'after the limit' },
    );
    const { c, sleeps } = client();
    const response = await c.complete(request, {});
    expect(response.content).toBe('after the limit');
    expect(sleeps).toEqual([2000]);
  });

  it('backs off with jitter when no retry-after is given', async () => {
    server.enqueue(
      { kind: 'error', status: 503 },
      { kind: 'error', status: 502 },
      { kind: 'message', content: 'up' },
    );
    const { c, sleeps } = client({ backoff: { initialMs: 100, maxMs: 1000 } });
    const before = server.requests.length;
    await expect(c.complete(request, {})).resolves.toMatchObject({ content: 'up' });
    expect(sleeps).toEqual([75, 150]);
    // Each attempt tells the provider which it is, as the SDK's own retries would.
    expect(server.requests.slice(before).map((r) => r.headers['x-stainless-retry-count'])).toEqual([
      '0',
      '1',
      '2',
    ]);
  });

  it('gives up on a 500 after its retries with a retryable server_error', async () => {
    server.setFallback({ kind: 'error', status: 500, message: 'upstream exploded' });
    const before = server.requests.length;
    const error = await client()
      .c.complete(request, {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelCallError);
    expect(error).toMatchObject({ type: 'server_error', retryable: true, status: 500 });
    expect(server.requests.length - before).toBe(3);
  });

  it('keeps only the status and error type of an upstream error, never its body text', async () => {
    server.enqueue({ kind: 'error', status: 400, message: 'echo: postgres://user:hunter2@db/prod' });
    const error = (await client()
      .c.complete(request, {})
      .catch((e: unknown) => e)) as ModelCallError;
    expect(error.message).toBe('model endpoint answered 400 (fake_error)');
    expect(error.message).not.toContain('hunter2');
  });

  it('does not retry a 400 or 401', async () => {
    server.enqueue({ kind: 'error', status: 401 });
    const { c, sleeps } = client();
    await expect(c.complete(request, {})).rejects.toMatchObject({ type: 'authentication', retryable: false });
    expect(sleeps).toEqual([]);
  });

  it('honours an AbortSignal on a slow response', async () => {
    // Without the abort the call would resolve with the late answer instead of rejecting.
    server.enqueue({ kind: 'message', content: 'too late', delayMs: 2_000 });
    const error = await client()
      .c.complete(request, { signal: AbortSignal.timeout(100) })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ type: 'aborted' });
  });

  it('times out an attempt with the SDK timeout (retryable)', async () => {
    server.enqueue({ kind: 'message', content: 'slow', delayMs: 1_000 });
    const error = await client({ timeoutMs: 100, maxRetries: 0 })
      .c.complete(request, {})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ type: 'timeout', retryable: true });
  });

  it('refuses to call OpenAI without the named key, and never needs one for a local base URL', async () => {
    const noKey = createOpenAIModelClient({
      model: { provider: 'openai', model: 'm' },
      apiKey: () => undefined,
    });
    await expect(noKey.complete(request, {})).rejects.toMatchObject({
      type: 'authentication',
      retryable: false,
    });
    const local = createOpenAIModelClient({
      model: { provider: 'openai', model: 'm' },
      baseUrl: server.baseUrl,
      apiKey: () => undefined,
    });
    await expect(local.complete(request, {})).resolves.toMatchObject({ content: 'ok' });
  });
});

describe('Azure OpenAI', () => {
  it('calls the deployment URL with the api-version and the api-key header', async () => {
    const azure = createOpenAIModelClient({
      model: {
        provider: 'azure_openai',
        model: 'gpt-4o',
        deployment: 'my-deployment',
        apiVersion: '2024-10-21',
      },
      baseUrl: server.baseUrl.replace(/\/v1$/, ''),
      apiKey: () => 'az-secret',
    });
    const before = server.requests.length;
    await expect(azure.complete(request, {})).resolves.toMatchObject({ content: 'ok' });
    const sent = server.requests[before]!;
    expect(sent.path).toBe('/openai/deployments/my-deployment/chat/completions');
    expect(sent.query).toBe('api-version=2024-10-21');
    expect(sent.headers['api-key']).toBe('az-secret');
  });
});
