import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createModelClientResolver, defaultOnlyEndpoints } from '@agentledger/agents';
import { spec, startFakeOpenAIServer, type FakeOpenAIServer } from '@agentledger/agents/testing';
import type { SessionDelta } from '@agentledger/events';
import { runTeam } from './team-session.ts';

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await startFakeOpenAIServer();
});
afterAll(() => server.close());
beforeEach(() => server.setFallback({ kind: 'message', content: 'ok' }));

describe('a team on the OpenAI adapter (fake server)', () => {
  const team = spec({
    type: 'single',
    agents: [
      {
        name: 'assistant',
        tools: ['calculator'],
        reflectOnToolUse: true,
        model: { provider: 'openai', endpoint: 'fake', model: 'gpt-test', maxRetries: 1 },
      },
    ],
  });
  // The operator's endpoint `fake` is the fake server; the spec only names it.
  const endpoints = () =>
    new Map([...defaultOnlyEndpoints, ['fake', { name: 'fake', baseUrl: server.baseUrl }]]);
  const resolver = () =>
    createModelClientResolver({
      endpoints: endpoints(),
      env: {},
      openai: { backoff: { initialMs: 1, maxMs: 2 } },
    });
  const withServer = () => team;

  it('records a 500 that exhausts retries as a failed model call and a failed turn', async () => {
    server.setFallback({ kind: 'error', status: 500 });
    const result = await runTeam(withServer(), 'hi', { model: resolver(), endpoints: endpoints() });
    const failed = result.events.find((e) => e.type === 'ModelCallFailed');
    expect(failed?.data).toMatchObject({
      callId: 't1.s1.m1',
      error: { type: 'server_error', retryable: true },
    });
    expect(result.state.status).toBe('failed');
  });

  it('records a timeout (AbortSignal) as a failed call', async () => {
    server.setFallback({ kind: 'message', content: 'slow', delayMs: 1_000 });
    const result = await runTeam(withServer(), 'hi', {
      model: resolver(),
      endpoints: endpoints(),
      modelCallTimeoutMs: 100,
    });
    expect(result.events.find((e) => e.type === 'ModelCallFailed')?.data).toMatchObject({
      error: { type: 'timeout' },
    });
  });

  it('turns malformed tool arguments into a tool error the model sees', async () => {
    server.enqueue(
      { kind: 'message', toolCalls: [{ name: 'calculator', arguments: '{"a": 2, "b": ' }] },
      { kind: 'message', content: 'I could not compute that.' },
    );
    const before = server.requests.length;
    const result = await runTeam(withServer(), 'what is 2 + ?', {
      model: resolver(),
      endpoints: endpoints(),
    });
    expect(result.events.find((e) => e.type === 'ToolCallFailed')?.data).toMatchObject({
      reason: 'invalid-arguments',
    });
    expect(result.messages.at(-1)?.content).toBe('I could not compute that.');
    const reflection = server.requests[before + 1]!.body as {
      messages: { role: string; content: string; tool_call_id?: string }[];
    };
    expect(reflection.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 't1.s1.m1.t0' });
    expect(reflection.messages.at(-1)?.content).toMatch(/^Error: arguments are not valid JSON/);
  });

  it('records the same events whether the model calls stream or not; the pieces join to the answer', async () => {
    const script = () =>
      server.enqueue(
        {
          kind: 'message',
          content: 'Computing.',
          toolCalls: [{ id: 'call_x', name: 'calculator', arguments: '{"expression":"2 + 3"}' }],
        },
        {
          kind: 'message',
          content: 'The result is 5, exactly as expected.',
          usage: { promptTokens: 40, completionTokens: 11 },
        },
      );
    const run = (deltas?: SessionDelta[]) =>
      runTeam(withServer(), 'what is 2 + 3?', {
        model: resolver(),
        endpoints: endpoints(),
        sessionId: 'same-session',
        clock: () => new Date('2026-01-01T00:00:00Z'),
        ...(deltas ? { deltas: { publish: (d) => void deltas.push(d), flush: async () => undefined } } : {}),
      });
    const comparable = (events: Awaited<ReturnType<typeof run>>['events']) =>
      events.map((e) => ({ type: e.type, data: { ...(e.data as object), latencyMs: 0 } }));
    script();
    const whole = await run();
    script();
    const deltas: SessionDelta[] = [];
    const streamed = await run(deltas);
    expect(comparable(streamed.events)).toEqual(comparable(whole.events));
    const completed = streamed.events.filter((e) => e.type === 'ModelCallCompleted');
    expect(completed).toHaveLength(2);
    const [first, second] = completed.map((e) => e.data as { callId: string; content: string | null });
    const textOf = (callId: string) =>
      deltas
        .filter((d) => d.callId === callId && d.kind === 'text')
        .map((d) => d.text)
        .join('');
    expect(textOf(first!.callId)).toBe(first!.content);
    expect(textOf(second!.callId)).toBe(second!.content);
    const args = deltas.filter((d) => d.callId === first!.callId && d.kind === 'tool_call_args');
    expect(args.map((d) => d.toolCall?.argsDelta).join('')).toBe('{"expression":"2 + 3"}');
    expect(deltas.filter((d) => d.callId === second!.callId).map((d) => d.seq)).toEqual(
      deltas.filter((d) => d.callId === second!.callId).map((_, i) => i),
    );
  });
});
