import type OpenAI from 'openai';
import type { FinishReason, ModelDelta, ModelResponse } from '../core/model/model-client.port.ts';
import { ModelCallError } from './model-call-error.ts';

/** The port's finish reason for the one OpenAI gave (`function_call` is the old name of tool calls). */
export const finishReasonOf = (reason: string | null | undefined): FinishReason =>
  reason === 'stop' || reason === 'tool_calls' || reason === 'length' || reason === 'content_filter'
    ? reason
    : reason === 'function_call'
      ? 'tool_calls'
      : 'other';

type ToolCallParts = { id: string; name: string; arguments: string };

/**
 * Folds the chunks of a streamed completion into the response a non-streamed call returns, and
 * turns each chunk into the deltas a watcher sees. Tool calls are put together by their `index`.
 */
export const assembleStream = () => {
  let content: string | null = null;
  const toolCalls: ToolCallParts[] = [];
  let finishReason: string | null | undefined;
  let usage: OpenAI.CompletionUsage | null | undefined;
  let model: string | undefined;
  const add = (chunk: OpenAI.Chat.Completions.ChatCompletionChunk, attempt: number): ModelDelta[] => {
    if (chunk.model) model = chunk.model;
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices?.find((c) => c.index === 0);
    if (!choice) return [];
    if (choice.finish_reason) finishReason = choice.finish_reason;
    const deltas: ModelDelta[] = [];
    const text = choice.delta?.content;
    if (typeof text === 'string') {
      content = (content ?? '') + text;
      if (text !== '') deltas.push({ kind: 'text', attempt, text });
    }
    for (const part of choice.delta?.tool_calls ?? []) {
      const call = (toolCalls[part.index] ??= { id: '', name: '', arguments: '' });
      if (part.id) call.id = part.id;
      if (part.function?.name) call.name += part.function.name;
      const argsDelta = part.function?.arguments ?? '';
      call.arguments += argsDelta;
      deltas.push({
        kind: 'tool_call_args',
        attempt,
        index: part.index,
        ...(part.id ? { id: part.id } : {}),
        ...(part.function?.name ? { name: part.function.name } : {}),
        argsDelta,
      });
    }
    return deltas;
  };
  const response = (): ModelResponse => {
    if (finishReason === undefined)
      throw new ModelCallError('invalid_response', 'the model stream ended without a finish reason', true);
    return {
      content,
      toolCalls: toolCalls.filter((tc) => tc !== undefined).map((tc) => ({ ...tc })),
      usage: { promptTokens: usage?.prompt_tokens ?? 0, completionTokens: usage?.completion_tokens ?? 0 },
      finishReason: finishReasonOf(finishReason),
      ...(model ? { model } : {}),
    };
  };
  return { add, response };
};
