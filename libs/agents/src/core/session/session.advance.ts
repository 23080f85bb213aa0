import {
  buildAgentContext,
  buildSelectorContext,
  contextHashOf,
  mentionedAgents,
  offeredToolNames,
  selectorCandidates,
} from '../prompt/model-context.ts';
import { threadStartFor } from '../prompt/magentic-context.ts';
import { MAGENTIC_ORCHESTRATOR } from '../spec/team-spec.ts';
import type { AssistantAgentSpec, ModelSpec, TeamSpec } from '../spec/team-spec.ts';
import { effectiveTermination, terminationReason } from '../team/termination.ts';
import type { ModelCallPurpose, SessionEvent } from './session.events.ts';
import { endpointOf } from './call-endpoint.ts';
import { magenticStep } from './session.magentic.ts';
import { evolve, toolResultText } from './session.evolve.ts';
import type { ModelCallState, Session, TurnState } from './session.state.ts';

/**
 * Follows a state to the next point where the session waits for the world (a model call, a tool,
 * the human) and returns the events on the way: next speaker, next model call, agent messages,
 * termination, the next queued turn. Everything is derived from state and `now`, so re-deciding
 * after a crash yields the same events with the same ids.
 */
export const advance = (state: Session, now: Date): SessionEvent[] => {
  const out: SessionEvent[] = [];
  let s = state;
  // Bounds a decider that never settles. A queued message can start a turn that ends at once (two
  // steps), so the bound grows with the queue: no queue a tenant can build makes a session stuck.
  const bound = 10_000 + 4 * state.queue.length;
  for (let guard = 0; guard < bound; guard++) {
    const events = nextStep(s, now);
    if (events.length === 0) return out;
    for (const event of events) {
      out.push(event);
      s = evolve(s, event);
    }
  }
  throw new Error('session decider did not settle');
};

const nextStep = (s: Session, now: Date): SessionEvent[] => {
  const spec = s.spec;
  if (s.closed || !spec) return [];
  const turn = s.turn;
  if (!turn) {
    const next = s.queue[0];
    return next
      ? [{ type: 'TurnStarted', data: { turnId: `t${s.turnCount + 1}`, messageId: next, at: iso(now) } }]
      : [];
  }
  if (turn.phase === 'awaiting_input' || hasPendingWork(s, turn)) return [];
  switch (turn.phase) {
    case 'between_steps':
      if (spec.type === 'magentic_one')
        return magenticStep(s, spec, turn, now, () => stopReason(s, spec, turn, now));
      return betweenSteps(s, spec, turn, now);
    case 'orchestrating':
      return magenticStep(s, spec, turn, now, () => stopReason(s, spec, turn, now));
    case 'selecting':
      return afterSelection(s, spec, turn, now);
    case 'speaking':
      return speak(s, spec, turn, now);
  }
};

const iso = (now: Date): string => now.toISOString();

const hasPendingWork = (s: Session, turn: TurnState): boolean => {
  const last = turn.stepCalls.at(-1);
  if (last && s.modelCalls[last]?.status === 'pending') return true;
  return turn.batch.some((id) => s.toolCalls[id]?.status === 'pending');
};

/** The reason the turn must stop now, if any (termination conditions and hard limits). */
export const stopReason = (s: Session, spec: TeamSpec, turn: TurnState, now: Date): string | null => {
  const policy = effectiveTermination(spec);
  if (!policy) return null;
  return terminationReason(policy, {
    // AutoGen's orchestrator never feeds its own messages to the termination condition.
    messages: s.messages.filter(
      (m) => m.turnId === turn.turnId && !(turn.magentic && m.source === MAGENTIC_ORCHESTRATOR),
    ),
    messageCount: turn.messageCount,
    usage: turn.usage,
    startedAt: turn.startedAt,
    now,
    functionCalls: turn.functionCalls,
  });
};

const complete = (turn: TurnState, reason: string, now: Date): SessionEvent[] => [
  { type: 'TurnCompleted', data: { turnId: turn.turnId, reason, at: iso(now) } },
];

const betweenSteps = (s: Session, spec: TeamSpec, turn: TurnState, now: Date): SessionEvent[] => {
  const reason = stopReason(s, spec, turn, now);
  if (reason !== null) return complete(turn, reason, now);
  if (spec.type === 'single' && turn.step >= 1) return complete(turn, 'Agent replied', now);
  if (spec.maxTurns !== undefined && turn.step >= spec.maxTurns)
    return complete(turn, `Maximum number of turns ${spec.maxTurns} reached.`, now);
  if (turn.handoffToUser !== null)
    return [
      {
        type: 'SessionAwaitingInput',
        data: { turnId: turn.turnId, agent: turn.handoffToUser, reason: 'handoff' },
      },
    ];
  const step = turn.step + 1;
  const select = (
    agent: string,
    method: 'single' | 'round_robin' | 'swarm' | 'only_candidate',
  ): SessionEvent[] => [{ type: 'SpeakerSelected', data: { turnId: turn.turnId, step, agent, method } }];
  const first = spec.agents[0]!.name;
  switch (spec.type) {
    case 'single':
      return select(first, 'single');
    case 'round_robin':
      return select(spec.agents[s.roundRobinNext % spec.agents.length]!.name, 'round_robin');
    case 'swarm':
      return select(s.swarmSpeaker ?? first, 'swarm');
    case 'selector': {
      const candidates = selectorCandidates(spec, s.lastSpeaker);
      if (candidates.length === 1) return select(candidates[0]!.name, 'only_candidate');
      return requestSelection(s, spec, turn, step, 1);
    }
    case 'magentic_one':
      return magenticStep(s, spec, turn, now, () => reason);
  }
};

const selectorModel = (spec: TeamSpec): ModelSpec | undefined => {
  const firstAssistant = spec.agents.find((a) => a.kind === 'assistant');
  return spec.selector?.model ?? (firstAssistant?.kind === 'assistant' ? firstAssistant.model : undefined);
};

const requestSelection = (
  s: Session,
  spec: TeamSpec,
  turn: TurnState,
  step: number,
  attempt: number,
): SessionEvent[] => {
  const candidates = selectorCandidates(spec, s.lastSpeaker);
  const earlier = turn.phase === 'selecting' ? turn.stepCalls.map((id) => s.modelCalls[id]!) : [];
  const messages = buildSelectorContext(spec, s.thread, s.thread.length, candidates, earlier);
  return [
    {
      type: 'ModelCallRequested',
      data: {
        callId: `${turn.turnId}.s${step}.sel${attempt}`,
        turnId: turn.turnId,
        step,
        agent: 'selector',
        purpose: 'select_speaker',
        iteration: attempt,
        contextLength: s.thread.length,
        contextHash: contextHashOf(messages, []),
        ...endpointOf(selectorModel(spec)),
      },
    },
  ];
};

const afterSelection = (s: Session, spec: TeamSpec, turn: TurnState, now: Date): SessionEvent[] => {
  const last = s.modelCalls[turn.stepCalls.at(-1) ?? ''];
  if (!last) return [];
  const candidates = selectorCandidates(spec, s.lastSpeaker).map((a) => a.name);
  const selected = (agent: string, method: 'selector' | 'selector_fallback'): SessionEvent[] => [
    { type: 'SpeakerSelected', data: { turnId: turn.turnId, step: last.step, agent, method } },
  ];
  if (last.status === 'completed') {
    const mentioned = mentionedAgents(last.content ?? '', candidates);
    if (mentioned.length === 1) return selected(mentioned[0]!, 'selector');
  }
  const reason = stopReason(s, spec, turn, now);
  if (reason !== null) return complete(turn, reason, now);
  const maxAttempts = spec.selector?.maxSelectorAttempts ?? 3;
  if (last.iteration < maxAttempts) return requestSelection(s, spec, turn, last.step, last.iteration + 1);
  const fallback =
    s.lastSpeaker !== null && candidates.includes(s.lastSpeaker) ? s.lastSpeaker : candidates[0]!;
  return selected(fallback, 'selector_fallback');
};

const speak = (s: Session, spec: TeamSpec, turn: TurnState, now: Date): SessionEvent[] => {
  const agent = spec.agents.find((a) => a.name === turn.speaker);
  if (!agent) return [failTurn(turn, `unknown speaker ${turn.speaker ?? ''}`, now)];
  if (agent.kind === 'user_proxy')
    return [
      {
        type: 'SessionAwaitingInput',
        data: { turnId: turn.turnId, agent: agent.name, reason: 'user_proxy' },
      },
    ];
  const last = s.modelCalls[turn.stepCalls.at(-1) ?? ''];
  if (!last) return requestAgentCall(s, spec, turn, agent, 'agent', 1, now);
  if (last.status === 'failed')
    return [
      {
        type: 'TurnFailed',
        data: {
          turnId: turn.turnId,
          reason: `model call ${last.callId} failed: ${last.error?.message ?? 'unknown error'}`,
          ...(last.error ? { error: last.error } : {}),
          at: iso(now),
        },
      },
    ];
  if (last.status !== 'completed') return [];
  const toolCalls = last.toolCalls ?? [];
  if (last.purpose === 'reflection' || toolCalls.length === 0)
    return [message(turn, agent, last.content ?? '', 'text')];
  const handoffCall = toolCalls.find((tc) => agent.handoffs.some((h) => h.name === tc.name));
  const handoff = handoffCall && agent.handoffs.find((h) => h.name === handoffCall.name);
  if (handoffCall && handoff)
    return [
      {
        type: 'HandoffOccurred',
        data: {
          turnId: turn.turnId,
          from: agent.name,
          to: handoff.target,
          toolCallId: handoffCall.id,
          message: handoff.message,
        },
      },
      message(turn, agent, handoff.message, 'handoff', handoff.target),
    ];
  if (last.iteration < agent.maxToolIterations)
    return requestAgentCall(s, spec, turn, agent, 'agent', last.iteration + 1, now);
  if (agent.reflectOnToolUse)
    return requestAgentCall(s, spec, turn, agent, 'reflection', last.iteration, now);
  return [message(turn, agent, toolSummary(s, agent, last), 'tool_call_summary')];
};

const failTurn = (turn: TurnState, reason: string, now: Date): SessionEvent => ({
  type: 'TurnFailed',
  data: { turnId: turn.turnId, reason, at: iso(now) },
});

const message = (
  turn: TurnState,
  agent: AssistantAgentSpec,
  content: string,
  messageType: 'text' | 'handoff' | 'tool_call_summary',
  target?: string,
): SessionEvent => ({
  type: 'AgentMessageEmitted',
  data: {
    messageId: `${turn.turnId}.s${turn.step}.msg`,
    turnId: turn.turnId,
    agent: agent.name,
    content,
    messageType,
    ...(target === undefined ? {} : { target }),
  },
});

/** AutoGen's ToolCallSummaryMessage: each result through `toolCallSummaryFormat`, one per line. */
const toolSummary = (s: Session, agent: AssistantAgentSpec, call: ModelCallState): string =>
  (call.toolCalls ?? [])
    .flatMap((tc) => {
      const tool = s.toolCalls[tc.id];
      if (!tool) return [];
      const values: Record<string, string> = {
        tool_name: tc.name,
        arguments: tc.arguments,
        result: toolResultText(tool),
        is_error: String(tool.status !== 'completed'),
      };
      return [
        agent.toolCallSummaryFormat.replace(
          /\{(tool_name|arguments|result|is_error)\}/g,
          (_, k: string) => values[k] ?? '',
        ),
      ];
    })
    .join('\n');

const requestAgentCall = (
  s: Session,
  spec: TeamSpec,
  turn: TurnState,
  agent: AssistantAgentSpec,
  purpose: Exclude<ModelCallPurpose, 'select_speaker'>,
  iteration: number,
  now: Date,
): SessionEvent[] => {
  const reason = stopReason(s, spec, turn, now);
  if (reason !== null) return complete(turn, reason, now);
  const callId =
    purpose === 'reflection'
      ? `${turn.turnId}.s${turn.step}.reflect`
      : `${turn.turnId}.s${turn.step}.m${iteration}`;
  const contextLength = s.thread.length;
  const start = threadStartFor(s, turn.turnId);
  const messages = buildAgentContext(s.thread.slice(start), agent, contextLength - start);
  return [
    {
      type: 'ModelCallRequested',
      data: {
        callId,
        turnId: turn.turnId,
        step: turn.step,
        agent: agent.name,
        purpose,
        iteration,
        contextLength,
        contextHash: contextHashOf(messages, offeredToolNames(agent, purpose)),
        ...endpointOf(agent.model),
      },
    },
  ];
};
