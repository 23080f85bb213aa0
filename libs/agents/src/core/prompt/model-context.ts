import { hashOf } from '@agentledger/events/canonical';
import type { ModelMessage, ToolSchema } from '../model/model-client.port.ts';
import {
  DEFAULT_SELECTOR_PROMPT,
  type AgentSpec,
  type AssistantAgentSpec,
  type TeamSpec,
} from '../spec/team-spec.ts';
import type { ModelCallState, Session, ThreadItem } from '../session/session.state.ts';
import { buildOrchestratorContext, threadStartFor } from './magentic-context.ts';

/**
 * The messages an agent's model sees, rebuilt from the thread (the first `contextLength` items):
 * its system message, everyone's chat messages (others' as user messages named by source, its own
 * as assistant messages) and its own tool exchanges. Pure: the same state gives the same context.
 */
export const buildAgentContext = (
  thread: readonly ThreadItem[],
  agent: AssistantAgentSpec,
  contextLength: number,
): readonly ModelMessage[] => {
  // Members written in canonical order (content, name, role, toolCallId, toolCalls): the
  // context's hash then serialises each message without copying it (see canonicalJson).
  const body: ModelMessage[] = [];
  for (const item of thread.slice(0, contextLength)) {
    if (item.kind === 'message') {
      if (item.source === agent.name) body.push({ content: item.content, role: 'assistant' });
      else if (item.source === 'user') body.push({ content: item.content, role: 'user' });
      else body.push({ content: item.content, name: item.source, role: 'user' });
      continue;
    }
    if (item.agent !== agent.name) continue;
    body.push({ content: item.content, role: 'assistant', toolCalls: item.toolCalls });
    for (const result of item.results)
      body.push({ content: result.content, role: 'tool', toolCallId: result.toolCallId });
  }
  return [{ content: agent.systemMessage, role: 'system' }, ...bufferContext(body, agent)];
};

/**
 * AutoGen's Buffered (last N) and HeadAndTail (first H, a skipped-count note, last T) contexts.
 * A kept slice never starts on a tool result whose call was cut off.
 */
const bufferContext = (
  messages: readonly ModelMessage[],
  agent: AssistantAgentSpec,
): readonly ModelMessage[] => {
  const context = agent.modelContext;
  const dropOrphans = (kept: readonly ModelMessage[]): readonly ModelMessage[] => {
    let out = kept;
    while (out[0]?.role === 'tool') out = out.slice(1);
    return out;
  };
  if (context.kind === 'buffered') return dropOrphans(messages.slice(-context.bufferSize));
  if (context.kind === 'head_and_tail') {
    if (messages.length <= context.headSize + context.tailSize) return messages;
    let head = messages.slice(0, context.headSize);
    while (head.at(-1)?.role === 'assistant' && (head.at(-1) as { toolCalls?: unknown[] }).toolCalls?.length)
      head = head.slice(0, -1);
    const tail = dropOrphans(messages.slice(-context.tailSize));
    const skipped = messages.length - head.length - tail.length;
    return [...head, { content: `Skipped ${skipped} messages.`, role: 'user' }, ...tail];
  }
  return messages;
};

/** The handoff functions an assistant may call (AutoGen's `transfer_to_<target>`). */
export const handoffToolSchemas = (agent: AssistantAgentSpec): readonly ToolSchema[] =>
  agent.handoffs.map((h) => ({
    name: h.name,
    description: h.description,
    parameters: { type: 'object', properties: {}, additionalProperties: false },
  }));

/** Hash stored in ModelCallRequested/Completed: covers the messages and the offered tool names. */
export const contextHashOf = (messages: readonly ModelMessage[], toolNames: readonly string[]): string =>
  hashOf({ messages, tools: toolNames });

/** Tool names offered on an agent call: none on a reflection call (as AutoGen). */
export const offeredToolNames = (agent: AssistantAgentSpec, purpose: ModelCallState['purpose']): string[] =>
  purpose === 'agent'
    ? [...agent.tools, ...(agent.mcpTools ?? []).map((t) => t.name), ...agent.handoffs.map((h) => h.name)]
    : [];

const pythonList = (names: readonly string[]): string => `[${names.map((n) => `'${n}'`).join(', ')}]`;

/** AutoGen's `{history}`: `source: content` for each chat message of the thread. */
const selectorHistory = (thread: readonly ThreadItem[], contextLength: number): string =>
  thread
    .slice(0, contextLength)
    .flatMap((item) => (item.kind === 'message' ? [`${item.source}: ${item.content}`.trimEnd()] : []))
    .join('\n\n');

/**
 * The selector's prompt with AutoGen's placeholders: `{roles}` (name: description of each
 * candidate), `{participants}` (the candidate names as a list), `{history}` (the conversation).
 */
export const renderSelectorPrompt = (
  template: string,
  candidates: readonly AgentSpec[],
  thread: readonly ThreadItem[],
  contextLength: number,
): string => {
  const roles = candidates.map((a) => `${a.name}: ${a.description}`.trim()).join('\n');
  const participants = pythonList(candidates.map((a) => a.name));
  const history = selectorHistory(thread, contextLength);
  return template.replace(/\{(roles|participants|history)\}/g, (_, key: string) =>
    key === 'roles' ? roles : key === 'participants' ? participants : history,
  );
};

/** The agents AutoGen's regex finds mentioned in `text` (also with `_` written as a space). */
export const mentionedAgents = (text: string, names: readonly string[]): string[] => {
  const padded = ` ${text} `;
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return names.filter((name) => {
    const variants = [name, name.replace(/_/g, ' '), name.replace(/_/g, '\\_')];
    return variants.some((v) => new RegExp(`(?<=\\W)${escape(v)}(?=\\W)`).test(padded));
  });
};

export const selectorFeedback = (text: string, candidates: readonly string[]): string => {
  const mentioned = mentionedAgents(text, candidates);
  return mentioned.length === 0
    ? `No valid name was mentioned. Please select from: ${pythonList(candidates)}.`
    : `Expected exactly one name to be mentioned. Please select only one from: ${pythonList(candidates)}.`;
};

/**
 * The selector call's messages: the rendered prompt, then for each earlier failed attempt of this
 * selection its answer and AutoGen's feedback.
 */
export const buildSelectorContext = (
  spec: TeamSpec,
  thread: readonly ThreadItem[],
  contextLength: number,
  candidates: readonly AgentSpec[],
  earlierAttempts: readonly ModelCallState[],
): readonly ModelMessage[] => {
  const template = spec.selector?.prompt ?? DEFAULT_SELECTOR_PROMPT;
  const messages: ModelMessage[] = [
    { role: 'system', content: renderSelectorPrompt(template, candidates, thread, contextLength) },
  ];
  for (const attempt of earlierAttempts) {
    if (attempt.status !== 'completed') continue;
    const answer = attempt.content ?? '';
    messages.push({ role: 'assistant', content: answer });
    messages.push({
      role: 'user',
      content: selectorFeedback(
        answer,
        candidates.map((c) => c.name),
      ),
    });
  }
  return messages;
};

/** Rebuilds the context of a requested call from state (what the effect runner sends). */
export const contextForCall = (state: Session, call: ModelCallState): readonly ModelMessage[] => {
  const spec = state.spec;
  if (!spec) return [];
  if (call.purpose === 'select_speaker') {
    const candidates = selectorCandidates(spec, state.lastSpeaker);
    const turnCalls = Object.values(state.modelCalls).filter(
      (c) =>
        c.turnId === call.turnId &&
        c.step === call.step &&
        c.purpose === 'select_speaker' &&
        c.iteration < call.iteration,
    );
    return buildSelectorContext(spec, state.thread, call.contextLength, candidates, turnCalls);
  }
  if (isOrchestratorCall(call)) return buildOrchestratorContext(spec, state, call);
  const agent = spec.agents.find((a) => a.name === call.agent);
  if (!agent || agent.kind !== 'assistant') return [];
  const start = threadStartFor(state, call.turnId);
  return buildAgentContext(state.thread.slice(start), agent, call.contextLength - start);
};

/** A Magentic-One orchestrator call (its own prompts, no tools). */
export const isOrchestratorCall = (call: Pick<ModelCallState, 'purpose'>): boolean =>
  call.purpose !== 'agent' && call.purpose !== 'reflection' && call.purpose !== 'select_speaker';

/** The selector's candidates: every participant, minus the previous speaker unless repeats are allowed. */
export const selectorCandidates = (spec: TeamSpec, previous: string | null): readonly AgentSpec[] => {
  const allowRepeated = spec.selector?.allowRepeatedSpeaker ?? false;
  const candidates = spec.agents.filter((a) => allowRepeated || a.name !== previous);
  return candidates.length > 0 ? candidates : spec.agents;
};
