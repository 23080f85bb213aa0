import type { ModelClient, ModelRequest, ModelResponse } from '@agentledger/agents';
import { systemClock } from '@agentledger/sessions';

/**
 * A deterministic model for orchestrator tests, a pure function of its request (so any replica,
 * before or after a crash, answers alike): to a user message it calls the first offered tool with
 * `{ text: <message> }`; to a tool result it answers `done: <result>`. `delayMs` slows chosen calls.
 */
export const toolThenAnswerModel = (
  options: Readonly<{
    delayMs?: (request: ModelRequest) => number;
    onCall?: (request: ModelRequest) => void;
  }> = {},
): ModelClient => ({
  complete: async (request, { signal } = {}) => {
    options.onCall?.(request);
    const delay = options.delayMs?.(request) ?? 0;
    if (delay > 0) await systemClock.sleep(delay, signal);
    return respond(request);
  },
});

const respond = (request: ModelRequest): ModelResponse => {
  const last = request.messages.at(-1);
  const usage = { promptTokens: 10, completionTokens: 5 };
  const tool = request.tools[0];
  if (last?.role === 'user' && tool) {
    return {
      content: null,
      toolCalls: [{ id: 'call_1', name: tool.name, arguments: JSON.stringify({ text: last.content }) }],
      usage,
      finishReason: 'tool_calls',
    };
  }
  const content = last?.role === 'tool' ? `done: ${last.content}` : `echo: ${last?.content ?? ''}`;
  return { content, toolCalls: [], usage, finishReason: 'stop' };
};
