import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@agentledger/testing';
import {
  startFakeOpenAIServer,
  type FakeOpenAIServer,
  type FakeReply,
} from '../testing/fake-openai-server.ts';
import type { ModelDelta, ModelRequest } from '../core/model/model-client.port.ts';
import { createOpenAIModelClient } from './openai-client.ts';

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await startFakeOpenAIServer();
});
afterAll(() => server.close());

const request: ModelRequest = {
  messages: [{ role: 'user', content: 'Write and compute.' }],
  tools: [{ name: 'calculator', description: 'calc', parameters: { type: 'object', properties: {} } }],
  agent: 'assistant',
  purpose: 'agent',
  idempotencyKey: 's1:t1.s1.m1',
};

const client = () =>
  createOpenAIModelClient({
    model: { provider: 'openai', model: 'gpt-test' },
    baseUrl: server.baseUrl,
    apiKey: () => 'sk-test',
    maxRetries: 1,
    sleep: async () => undefined,
  });

const replies: Record<string, FakeReply> = {
  text: {
    kind: 'message',
    content: 'The answer is five, as you can see.',
    usage: { promptTokens: 12, completionTokens: 9 },
  },
  'tool calls': {
    kind: 'message',
    content: null,
    toolCalls: [
      { id: 'call_a', name: 'calculator', arguments: '{"expression":"2 + 3","precision":2}' },
      { id: 'call_b', name: 'calculator', arguments: '{"expression":"7 * 6"}' },
    ],
    usage: { promptTokens: 30, completionTokens: 17 },
  },
  'text and a tool call': {
    kind: 'message',
    content: 'Let me compute that.',
    toolCalls: [{ id: 'call_c', name: 'calculator', arguments: '{"expression":"1 + 1"}' }],
  },
  truncated: { kind: 'message', content: 'cut', finishReason: 'length' },
};

describe('OpenAI adapter: streamed calls', () => {
  it.each(Object.keys(replies))('assembles the same response as a non-streamed call (%s)', async (name) => {
    server.enqueue(replies[name]!, replies[name]!);
    const whole = await client().complete(request, {});
    const deltas: ModelDelta[] = [];
    const before = server.requests.length;
    const streamed = await client().complete(request, { onDelta: (d) => deltas.push(d) });
    expect(streamed).toEqual(whole);
    expect(server.requests[before]?.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(deltas.length).toBeGreaterThan(0);
  });

  it('hands the text in pieces, in order, which join to the content', async () => {
    server.enqueue(replies['text']!);
    const deltas: ModelDelta[] = [];
    const response = await client().complete(request, { onDelta: (d) => deltas.push(d) });
    const texts = deltas.flatMap((d) => (d.kind === 'text' ? [d.text] : []));
    expect(texts.length).toBeGreaterThan(3);
    expect(texts.join('')).toBe(response.content);
  });

  it('hands tool-call arguments in pieces, with id and name first, which join to each call’s arguments', async () => {
    server.enqueue(replies['tool calls']!);
    const deltas: ModelDelta[] = [];
    const response = await client().complete(request, { onDelta: (d) => deltas.push(d) });
    const args = deltas.filter((d) => d.kind === 'tool_call_args');
    for (const [index, call] of response.toolCalls.entries()) {
      const own = args.filter((d) => d.index === index);
      expect(own[0]).toMatchObject({ id: call.id, name: 'calculator' });
      expect(own.length).toBeGreaterThan(2);
      expect(own.map((d) => d.argsDelta).join('')).toBe(call.arguments);
    }
    expect(response.toolCalls.map((c) => c.id)).toEqual(['call_a', 'call_b']);
  });

  it('numbers the attempt of each delta: a retried call starts its answer again', async () => {
    server.enqueue({ kind: 'error', status: 503 }, { kind: 'message', content: 'second try' });
    const deltas: ModelDelta[] = [];
    const response = await client().complete(request, { onDelta: (d) => deltas.push(d) });
    expect(response.content).toBe('second try');
    expect(new Set(deltas.map((d) => d.attempt))).toEqual(new Set([1]));
  });

  it('makes the call whole on an endpoint the operator marked `stream: false`', async () => {
    server.enqueue(replies['text']!);
    const deltas: ModelDelta[] = [];
    const before = server.requests.length;
    const whole = createOpenAIModelClient({
      model: { provider: 'openai', model: 'gpt-test' },
      baseUrl: server.baseUrl,
      apiKey: () => 'sk-test',
      stream: false,
    });
    const response = await whole.complete(request, { onDelta: (d) => deltas.push(d) });
    expect(response.content).toBe((replies['text'] as { content: string }).content);
    expect(server.requests[before]?.body).toMatchObject({ stream: false });
    expect(deltas).toEqual([]);
  });

  it('stops a stream when the call is aborted mid-answer: the deltas so far, then an aborted error', async () => {
    server.enqueue({
      kind: 'message',
      content: 'one two three four five six seven eight',
      chunkDelayMs: 100,
    });
    const abort = new AbortController();
    const deltas: ModelDelta[] = [];
    const abortedBefore = server.aborted.length;
    const call = client().complete(request, {
      signal: abort.signal,
      onDelta: (d) => {
        deltas.push(d);
        if (deltas.length === 2) abort.abort();
      },
    });
    await expect(call).rejects.toMatchObject({ type: 'aborted', retryable: true });
    expect(deltas.map((d) => (d.kind === 'text' ? d.text : ''))).toEqual(['one ', 'two ']);
    await eventually('the server to see the client leave', () =>
      server.aborted.length > abortedBefore ? true : undefined,
    );
  });
});
