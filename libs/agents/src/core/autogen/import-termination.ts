import type { TerminationPolicy } from '../spec/termination.schema.ts';
import { known, type ImportContext } from './import-context.ts';

/** AutoGen's termination conditions (and Or/And of them) map one to one onto ours. */
export const importTermination = (
  ctx: ImportContext,
  value: unknown,
  path: string,
): TerminationPolicy | undefined => {
  const c = ctx.component(value, path);
  if (!c) return undefined;
  const cfg = c.config;
  const num = (k: string): number | undefined => (typeof cfg[k] === 'number' ? cfg[k] : undefined);
  const strings = (k: string): string[] | undefined =>
    Array.isArray(cfg[k]) && cfg[k].every((s) => typeof s === 'string') ? (cfg[k] as string[]) : undefined;
  // AutoGen would count agent events (tool call requests and results, thoughts, streaming chunks)
  // too; this engine counts chat messages only, so the option is refused rather than ignored.
  if (cfg['include_agent_event'] === true)
    return ctx.reject(
      `${path}.config.include_agent_event`,
      c.provider,
      'include_agent_event: true is not supported (only chat messages are counted); remove it or set it to false',
    );
  switch (known(c.provider)) {
    case 'MaxMessageTermination':
      return { kind: 'max_messages', limit: num('max_messages') ?? 10 };
    case 'TextMentionTermination': {
      const sources = strings('sources');
      return {
        kind: 'text_mention',
        text: String(cfg['text'] ?? 'TERMINATE'),
        ...(sources ? { sources } : {}),
      };
    }
    case 'TokenUsageTermination': {
      const budget = {
        ...(num('max_total_token') ? { maxTokens: num('max_total_token') } : {}),
        ...(num('max_prompt_token') ? { maxPromptTokens: num('max_prompt_token') } : {}),
        ...(num('max_completion_token') ? { maxCompletionTokens: num('max_completion_token') } : {}),
      };
      return { kind: 'token_budget', ...budget };
    }
    case 'TimeoutTermination':
      return { kind: 'timeout', seconds: num('timeout_seconds') ?? 60 };
    case 'HandoffTermination':
      return { kind: 'handoff', target: String(cfg['target'] ?? 'user') };
    case 'ExternalTermination':
      return { kind: 'external' };
    case 'SourceMatchTermination':
      return { kind: 'source_match', sources: strings('sources') ?? [] };
    case 'StopMessageTermination':
      return { kind: 'stop_message' };
    case 'TextMessageTermination':
      return {
        kind: 'text_message',
        ...(typeof cfg['source'] === 'string' ? { source: cfg['source'] } : {}),
      };
    case 'FunctionCallTermination':
      return { kind: 'function_call', functionName: String(cfg['function_name'] ?? '') };
    case 'OrTerminationCondition':
    case 'AndTerminationCondition': {
      const list = Array.isArray(cfg['conditions']) ? cfg['conditions'] : [];
      const conditions = list.flatMap((sub, i) => {
        const t = importTermination(ctx, sub, `${path}.config.conditions[${i}]`);
        return t ? [t] : [];
      });
      if (conditions.length !== list.length || conditions.length === 0) return undefined;
      return { kind: known(c.provider) === 'OrTerminationCondition' ? 'any_of' : 'all_of', conditions };
    }
    default:
      return ctx.reject(path, c.provider, 'this termination condition cannot run here');
  }
};
