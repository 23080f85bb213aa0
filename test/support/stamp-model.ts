import type { FakeOpenAIServer } from '@agentledger/agents/testing';

type Body = Readonly<{ messages?: readonly Readonly<{ role: string; content?: string | null }>[] }>;

/**
 * Scripts the fake OpenAI-compatible server as a model that calls `stamp` with the user's message,
 * then answers `done: <the tool's result>`; to the message `slow` it answers only after `slowMs`.
 */
export const answerWithStamp = (fake: FakeOpenAIServer, slowMs = 0): void =>
  fake.setFallback((body) => {
    const last = (body as Body).messages?.at(-1);
    if (last?.role === 'user' && last.content === 'slow')
      return { kind: 'message', content: 'too late', delayMs: slowMs };
    return last?.role === 'tool'
      ? { kind: 'message', content: `done: ${last.content ?? ''}` }
      : {
          kind: 'message',
          toolCalls: [{ name: 'stamp', arguments: JSON.stringify({ text: last?.content ?? '' }) }],
        };
  });

/** A single-agent team on the `default` endpoint with the `stamp` tool. */
export const stampTeam = {
  specVersion: 1,
  name: 'stamp-team',
  type: 'single',
  agents: [
    {
      name: 'clerk',
      tools: ['stamp'],
      model: { provider: 'openai', model: 'fake-model', maxRetries: 0 },
    },
  ],
} as const;
