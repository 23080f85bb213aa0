import type { TokenUsage } from '../model/model-client.port.ts';
import type { TerminationPolicy } from '../spec/termination.schema.ts';
import type { TeamSpec } from '../spec/team-spec.ts';
import type { SessionMessage } from '../session/session.state.ts';

/** What termination conditions look at: the current turn so far, and the command's clock. */
export type TurnView = Readonly<{
  messages: readonly SessionMessage[];
  messageCount: number;
  usage: TokenUsage;
  startedAt: string;
  now: Date;
  functionCalls: readonly string[];
}>;

/**
 * The reason the turn must stop, or null. Conditions are evaluated over the whole turn, so each is
 * "has fired in this turn" (AutoGen's stateful conditions, reset per run) and `all_of` waits until
 * every member has fired. `external` fires only through `CancelTurn`.
 */
export const terminationReason = (policy: TerminationPolicy, view: TurnView): string | null => {
  switch (policy.kind) {
    case 'max_messages':
      return view.messageCount >= policy.limit
        ? `Maximum number of messages ${policy.limit} reached, current message count: ${view.messageCount}`
        : null;
    case 'text_mention': {
      const hit = view.messages.find(
        (m) => m.content.includes(policy.text) && (!policy.sources || policy.sources.includes(m.source)),
      );
      return hit ? `Text '${policy.text}' mentioned` : null;
    }
    case 'token_budget': {
      const { promptTokens, completionTokens } = view.usage;
      const total = promptTokens + completionTokens;
      const over =
        (policy.maxTokens !== undefined && total >= policy.maxTokens) ||
        (policy.maxPromptTokens !== undefined && promptTokens >= policy.maxPromptTokens) ||
        (policy.maxCompletionTokens !== undefined && completionTokens >= policy.maxCompletionTokens);
      return over
        ? `Token usage limit reached, total token count: ${total}, prompt token count: ${promptTokens}, completion token count: ${completionTokens}.`
        : null;
    }
    case 'timeout': {
      const elapsed = (view.now.getTime() - Date.parse(view.startedAt)) / 1000;
      return elapsed >= policy.seconds ? `Timeout of ${policy.seconds} seconds reached` : null;
    }
    case 'handoff': {
      const hit = view.messages.find((m) => m.messageType === 'handoff' && m.target === policy.target);
      return hit ? `Handoff to ${policy.target} from ${hit.source} detected.` : null;
    }
    case 'external':
      return null;
    case 'source_match': {
      const hit = view.messages.find((m) => m.role === 'assistant' && policy.sources.includes(m.source));
      return hit ? `'${hit.source}' answered` : null;
    }
    case 'stop_message':
      return view.messages.some((m) => m.messageType === 'stop') ? 'Stop message received' : null;
    case 'text_message': {
      const hit = view.messages.find(
        (m) =>
          m.role === 'assistant' &&
          m.messageType === 'text' &&
          (policy.source === undefined || m.source === policy.source),
      );
      return hit ? `Text message received from '${hit.source}'` : null;
    }
    case 'function_call':
      return view.functionCalls.includes(policy.functionName)
        ? `Function '${policy.functionName}' was executed.`
        : null;
    case 'any_of': {
      for (const condition of policy.conditions) {
        const reason = terminationReason(condition, view);
        if (reason !== null) return reason;
      }
      return null;
    }
    case 'all_of': {
      const reasons = policy.conditions.map((c) => terminationReason(c, view));
      return reasons.every((r) => r !== null) ? reasons.join('; ') : null;
    }
    default: {
      const unhandled: never = policy;
      return unhandled;
    }
  }
};

/** The team's condition plus the hard limits (`limits.maxTokens`, `limits.turnTimeoutSeconds`). */
export const effectiveTermination = (spec: TeamSpec): TerminationPolicy | null => {
  const hard: TerminationPolicy[] = [];
  if (spec.limits.maxTokens !== undefined)
    hard.push({ kind: 'token_budget', maxTokens: spec.limits.maxTokens });
  if (spec.limits.turnTimeoutSeconds !== undefined)
    hard.push({ kind: 'timeout', seconds: spec.limits.turnTimeoutSeconds });
  const all = [...(spec.termination ? [spec.termination] : []), ...hard];
  if (all.length === 0) return null;
  return all.length === 1 ? all[0]! : { kind: 'any_of', conditions: all };
};
