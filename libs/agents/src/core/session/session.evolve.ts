import type { TokenUsage } from '../model/model-client.port.ts';
import { MAGENTIC_ORCHESTRATOR } from '../spec/team-spec.ts';
import type { ModelCallPurpose, SessionEvent } from './session.events.ts';
import {
  initialSession,
  type MagenticTurn,
  type TurnPhase,
  type ModelCallState,
  type PendingView,
  type Session,
  type SessionStatus,
  type ThreadItem,
  type ToolCallState,
  type TurnState,
} from './session.state.ts';

/**
 * How `evolve` grows the transcript's lists (`messages`, `thread`, the only parts of the state that
 * grow with the conversation). `COPIED`, the plain `evolve`'s: a new list for each change, so every
 * state stays valid. A fold's (`foldingEvolve`): the first change copies a list, and later changes
 * in the same fold write to that copy. Folding n events onto a transcript of m items then costs
 * O(n + m), not O(n · m); only the fold's last state may be kept.
 */
type Lists = Readonly<{
  append: <T>(list: readonly T[], item: T) => readonly T[];
  replace: <T>(list: readonly T[], index: number, item: T) => readonly T[];
}>;

const COPIED: Lists = {
  append: (list, item) => [...list, item],
  replace: (list, index, item) => list.with(index, item),
};

/** Lists that the fold they are made for copies once and then changes in place. */
const foldOwned = (): Lists => {
  const owned = new WeakSet<readonly unknown[]>();
  const own = <T>(list: readonly T[]): T[] => {
    if (owned.has(list)) return list as T[];
    const copy = [...list];
    owned.add(copy);
    return copy;
  };
  return {
    append: (list, item) => {
      const mine = own(list);
      mine.push(item);
      return mine;
    },
    replace: (list, index, item) => {
      const mine = own(list);
      mine[index] = item;
      return mine;
    },
  };
};

const addUsage = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
  promptTokens: a.promptTokens + b.promptTokens,
  completionTokens: a.completionTokens + b.completionTokens,
});

const withTurn = (s: Session, patch: Partial<TurnState>): Session =>
  s.turn ? { ...s, turn: { ...s.turn, ...patch } } : s;

const withMagentic = (s: Session, patch: Partial<MagenticTurn>): Session =>
  s.turn?.magentic ? withTurn(s, { magentic: { ...s.turn.magentic, ...patch } }) : s;

const phaseOf = (purpose: ModelCallPurpose): TurnPhase => {
  if (purpose === 'select_speaker') return 'selecting';
  return purpose === 'agent' || purpose === 'reflection' ? 'speaking' : 'orchestrating';
};

const putModelCall = (s: Session, callId: string, patch: Partial<ModelCallState>): Session => {
  const call = s.modelCalls[callId];
  return call ? { ...s, modelCalls: { ...s.modelCalls, [callId]: { ...call, ...patch } } } : s;
};

const putToolCall = (s: Session, toolCallId: string, patch: Partial<ToolCallState>): Session => {
  const call = s.toolCalls[toolCallId];
  return call ? { ...s, toolCalls: { ...s.toolCalls, [toolCallId]: { ...call, ...patch } } } : s;
};

/** The text a tool result shows the model. */
export const toolResultText = (call: ToolCallState): string =>
  call.status === 'completed' ? (call.result ?? '') : `Error: ${call.failure?.message ?? 'tool call failed'}`;

/**
 * When the current batch is resolved, the agent's tool exchange (its tool calls and their results,
 * handoff calls answered with the handoff message) joins the thread.
 */
const closeBatchIfDone = (lists: Lists, s: Session): Session => {
  const turn = s.turn;
  if (!turn || turn.phase !== 'speaking') return s;
  const callId = turn.stepCalls.at(-1);
  const call = callId ? s.modelCalls[callId] : undefined;
  if (!call || call.status !== 'completed' || !call.toolCalls?.length) return s;
  if (exchangeOf(s.thread, call)) return s;
  const agent = s.spec?.agents.find((a) => a.name === call.agent);
  const handoffs = agent?.kind === 'assistant' ? agent.handoffs : [];
  const isHandoff = (name: string): boolean => handoffs.some((h) => h.name === name);
  const resolved = call.toolCalls.every((tc) => {
    const tool = s.toolCalls[tc.id];
    return tool ? tool.status !== 'pending' : isHandoff(tc.name);
  });
  if (!resolved) return s;
  const results = call.toolCalls.map((tc) => {
    const tool = s.toolCalls[tc.id];
    if (tool) return { toolCallId: tc.id, content: toolResultText(tool) };
    return { toolCallId: tc.id, content: handoffs.find((h) => h.name === tc.name)?.message ?? '' };
  });
  const item: ThreadItem = {
    kind: 'tool_exchange',
    agent: call.agent,
    callId: call.callId,
    content: call.content ?? null,
    toolCalls: call.toolCalls,
    results,
  };
  return { ...s, thread: lists.append(s.thread, item) };
};

/** Whether the call's tool exchange joined the thread: only after the context the call was given. */
const exchangeOf = (thread: readonly ThreadItem[], call: ModelCallState): boolean => {
  for (let index = thread.length - 1; index >= Math.max(0, call.contextLength); index -= 1) {
    const item = thread[index];
    if (item?.kind === 'tool_exchange' && item.callId === call.callId) return true;
  }
  return false;
};

/**
 * A turn that ends takes its call records with it: the thread keeps what the model saw, and a late
 * or duplicate result for a call that is no longer recorded decides `[]`. State stays proportional
 * to the conversation, not to the number of calls ever made.
 */
const retireTurn = (s: Session, turnId: string): Session => {
  const keep = <T extends { turnId: string }>(calls: Readonly<Record<string, T>>): Record<string, T> =>
    Object.fromEntries(Object.entries(calls).filter(([, c]) => c.turnId !== turnId));
  return { ...s, modelCalls: keep(s.modelCalls), toolCalls: keep(s.toolCalls), turn: null };
};

/** Calls of a turn still out when it is cancelled (a tool waiting for approval never started). */
const inFlightCalls = (s: Session, turnId: string): string[] => [
  ...Object.values(s.modelCalls)
    .filter((c) => c.turnId === turnId && c.status === 'pending')
    .map((c) => c.callId),
  ...Object.values(s.toolCalls)
    .filter((c) => c.turnId === turnId && c.status === 'pending' && c.approval !== 'requested')
    .map((c) => c.toolCallId),
];

const withAborted = (s: Session, calls: readonly string[]): Session => {
  const { abortedCalls: _previous, ...rest } = s;
  return calls.length > 0 ? { ...rest, abortedCalls: calls } : rest;
};

const withoutAborted = (s: Session, callId: string): Session =>
  s.abortedCalls?.includes(callId)
    ? withAborted(
        s,
        s.abortedCalls.filter((id) => id !== callId),
      )
    : s;

const NO_PENDING: PendingView = { modelCalls: [], toolCalls: [], approvals: [] };

const pendingOf = (s: Session): PendingView => {
  const turn = s.turn;
  if (!turn) return NO_PENDING;
  const lastCall = turn.stepCalls.at(-1);
  const call = lastCall ? s.modelCalls[lastCall] : undefined;
  const models = call && call.status === 'pending' ? [call] : [];
  const tools = turn.batch.flatMap((id) => {
    const tool = s.toolCalls[id];
    return tool && tool.status === 'pending' ? [tool] : [];
  });
  return {
    modelCalls: models.map((c) => ({ callId: c.callId, agent: c.agent, purpose: c.purpose })),
    toolCalls: tools
      .filter((c) => c.approval !== 'requested')
      .map((c) => ({ toolCallId: c.toolCallId, agent: c.agent, name: c.name })),
    approvals: tools
      .filter((c) => c.approval === 'requested')
      .map((c) => ({
        toolCallId: c.toolCallId,
        agent: c.agent,
        name: c.name,
        arguments: c.arguments,
        ...(c.approvalExpiresAt === undefined ? {} : { expiresAt: c.approvalExpiresAt }),
      })),
  };
};

const statusOf = (s: Session): SessionStatus => {
  if (s.closed) return 'closed';
  if (s.stalledReason !== null) return 'stalled';
  if (s.awaitingInput) return 'awaiting_input';
  if (!s.turn) return s.lastTurn?.outcome === 'failed' ? 'failed' : 'idle';
  if (s.pending.approvals.length > 0) return 'awaiting_approval';
  return 'running';
};

const apply = (lists: Lists, s: Session, event: SessionEvent): Session => {
  const version = s.version + 1;
  switch (event.type) {
    case 'SessionStarted': {
      const { sessionId, tenantId, teamId, spec, specHash } = event.data;
      return { ...s, sessionId, tenantId, teamId, spec, specHash };
    }
    case 'SessionForked': {
      const parent = event.data.parentEvents.reduce(foldingEvolve(), initialSession());
      // A fork owns none of the parent's calls: nothing of them is recorded here, aborted or not.
      const base = withAborted(parent.turn ? retireTurn(parent, parent.turn.turnId) : parent, []);
      return {
        ...base,
        sessionId: event.data.sessionId,
        tenantId: event.data.tenantId,
        forkedFrom: { sessionId: event.data.parentSessionId, atVersion: event.data.atVersion },
        awaitingInput: parent.turn ? null : base.awaitingInput,
        stalledReason: null,
        queue: [],
      };
    }
    case 'UserMessageReceived': {
      const { messageId, content, source } = event.data;
      const turn = s.turn;
      const joinsTurn = turn !== null && turn.phase === 'awaiting_input' && s.awaitingInput !== null;
      const message = {
        id: messageId,
        version,
        source,
        role: 'user' as const,
        content,
        messageType: 'text' as const,
        turnId: joinsTurn ? turn.turnId : null,
      };
      const next = { ...s, messages: lists.append(s.messages, message) };
      if (!joinsTurn) return { ...next, queue: [...s.queue, messageId] };
      const item: ThreadItem = { kind: 'message', id: messageId, source, content, messageType: 'text' };
      return {
        ...next,
        thread: lists.append(s.thread, item),
        awaitingInput: null,
        turn: { ...turn, phase: 'between_steps', messageCount: turn.messageCount + 1, handoffToUser: null },
      };
    }
    case 'TurnStarted': {
      const { turnId, messageId, at } = event.data;
      // The message a turn starts is a queued one, near the end of the transcript: looked for from there.
      const found = s.messages.findLastIndex((m) => m.id === messageId);
      const message = s.messages[found];
      const threadStart = s.thread.length + 1;
      const item: ThreadItem = {
        kind: 'message',
        id: messageId,
        source: message?.source ?? 'user',
        content: message?.content ?? '',
        messageType: 'text',
      };
      return {
        ...s,
        queue: s.queue.filter((id) => id !== messageId),
        messages: message ? lists.replace(s.messages, found, { ...message, turnId }) : s.messages,
        thread: lists.append(s.thread, item),
        awaitingInput: null,
        turnCount: s.turnCount + 1,
        turn: {
          turnId,
          index: s.turnCount + 1,
          messageId,
          startedAt: at,
          phase: 'between_steps',
          step: 0,
          speaker: null,
          stepCalls: [],
          batch: [],
          messageCount: 1,
          usage: { promptTokens: 0, completionTokens: 0 },
          functionCalls: [],
          handoffToUser: null,
          ...(s.spec?.type === 'magentic_one'
            ? {
                magentic: {
                  task: message?.content ?? '',
                  facts: null,
                  plan: null,
                  outerLoop: 0,
                  rounds: 0,
                  stalls: 0,
                  threadStart,
                  lastLedger: null,
                },
              }
            : {}),
        },
      };
    }
    case 'SpeakerSelected': {
      const { agent, step } = event.data;
      const agents = s.spec?.agents ?? [];
      const index = agents.findIndex((a) => a.name === agent);
      return {
        ...withTurn(s, { phase: 'speaking', step, speaker: agent, stepCalls: [], batch: [] }),
        lastSpeaker: agent,
        roundRobinNext: s.spec?.type === 'round_robin' ? (index + 1) % agents.length : s.roundRobinNext,
        swarmSpeaker: s.spec?.type === 'swarm' ? agent : s.swarmSpeaker,
      };
    }
    case 'ModelCallRequested': {
      const d = event.data;
      const call: ModelCallState = { ...d, status: 'pending' };
      const phase = phaseOf(d.purpose);
      const turn = s.turn;
      const stepCalls = turn && turn.phase === phase ? [...turn.stepCalls, d.callId] : [d.callId];
      return {
        ...withTurn(s, { phase, stepCalls, batch: [] }),
        modelCalls: { ...s.modelCalls, [d.callId]: call },
      };
    }
    case 'ModelCallCompleted': {
      const { callId, content, toolCalls, usage, finishReason } = event.data;
      const purpose = s.modelCalls[callId]?.purpose;
      const renamed = purpose === 'agent' ? toolCalls.map((tc, i) => ({ ...tc, id: `${callId}.t${i}` })) : [];
      const next = putModelCall(s, callId, {
        status: 'completed',
        content,
        toolCalls: renamed,
        usage,
        finishReason,
      });
      const turnUsage = s.turn ? addUsage(s.turn.usage, usage) : undefined;
      return closeBatchIfDone(lists, {
        ...(turnUsage ? withTurn(next, { usage: turnUsage }) : next),
        usage: addUsage(s.usage, usage),
      });
    }
    case 'ModelCallFailed':
      if (!s.modelCalls[event.data.callId]) return withoutAborted(s, event.data.callId);
      return putModelCall(s, event.data.callId, { status: 'failed', error: event.data.error });
    case 'ToolCallRequested': {
      const d = event.data;
      const call: ToolCallState = {
        ...d,
        turnId: s.turn?.turnId ?? '',
        status: 'pending',
        approval: 'none',
      };
      const next = { ...s, toolCalls: { ...s.toolCalls, [d.toolCallId]: call } };
      return withTurn(next, { batch: [...(s.turn?.batch ?? []), d.toolCallId] });
    }
    case 'ToolApprovalRequested': {
      const { toolCallId, expiresAt } = event.data;
      return putToolCall(s, toolCallId, {
        approval: 'requested',
        ...(expiresAt === undefined ? {} : { approvalExpiresAt: expiresAt }),
      });
    }
    case 'ToolApprovalGranted':
      return putToolCall(s, event.data.toolCallId, { approval: 'granted' });
    case 'ToolApprovalDenied':
      return putToolCall(s, event.data.toolCallId, { approval: 'denied' });
    case 'ToolCallCompleted': {
      const { toolCallId, result } = event.data;
      const name = s.toolCalls[toolCallId]?.name;
      const next = putToolCall(s, toolCallId, { status: 'completed', result });
      const functionCalls = [...(s.turn?.functionCalls ?? []), ...(name ? [name] : [])];
      return closeBatchIfDone(lists, withTurn(next, { functionCalls }));
    }
    case 'ToolCallFailed': {
      const { toolCallId, reason, message } = event.data;
      if (!s.toolCalls[toolCallId]) return withoutAborted(s, toolCallId);
      return closeBatchIfDone(
        lists,
        putToolCall(s, toolCallId, { status: 'failed', failure: { reason, message } }),
      );
    }
    case 'AgentMessageEmitted': {
      const { messageId, turnId, agent, content, messageType, target } = event.data;
      const message = {
        id: messageId,
        version,
        source: agent,
        role: 'assistant' as const,
        content,
        messageType,
        turnId,
        ...(target === undefined ? {} : { target }),
      };
      const item: ThreadItem = { kind: 'message', id: messageId, source: agent, content, messageType };
      const next = {
        ...s,
        messages: lists.append(s.messages, message),
        thread: lists.append(s.thread, item),
      };
      const counted = !(s.turn?.magentic && agent === MAGENTIC_ORCHESTRATOR);
      return withTurn(next, {
        phase: 'between_steps',
        messageCount: (s.turn?.messageCount ?? 0) + (counted ? 1 : 0),
        stepCalls: [],
        batch: [],
      });
    }
    case 'HandoffOccurred': {
      const { from, to } = event.data;
      const member = s.spec?.agents.some((a) => a.name === to) ?? false;
      return {
        ...withTurn(s, { handoffToUser: member ? null : from }),
        swarmSpeaker: s.spec?.type === 'swarm' ? (member ? to : from) : s.swarmSpeaker,
      };
    }
    case 'SessionAwaitingInput': {
      const { agent, reason } = event.data;
      return { ...withTurn(s, { phase: 'awaiting_input' }), awaitingInput: { agent, reason } };
    }
    case 'TaskLedgerUpdated': {
      const { facts, plan, outerLoop } = event.data;
      return withMagentic(s, { facts, plan, outerLoop, threadStart: s.thread.length });
    }
    case 'ProgressLedgerRecorded': {
      const { callId, round, ledger, stalls, decision } = event.data;
      return withMagentic(s, { rounds: round, stalls, lastLedger: { callId, ledger, decision } });
    }
    case 'TurnCompleted': {
      const { turnId, reason } = event.data;
      const handoffToUser = s.turn?.handoffToUser ?? null;
      // Only a timeout completes a turn with calls still out: their late outcomes are kept once.
      const inFlight = inFlightCalls(s, turnId);
      const retired = retireTurn(s, turnId);
      return {
        ...(inFlight.length > 0 ? withAborted(retired, [...(s.abortedCalls ?? []), ...inFlight]) : retired),
        lastTurn: { turnId, outcome: 'completed', reason },
        awaitingInput: handoffToUser ? { agent: handoffToUser, reason: 'handoff' } : null,
      };
    }
    case 'TurnCancelled':
      return {
        ...withAborted(retireTurn(s, event.data.turnId), inFlightCalls(s, event.data.turnId)),
        lastTurn: { turnId: event.data.turnId, outcome: 'cancelled', reason: event.data.reason },
        awaitingInput: null,
      };
    case 'TurnFailed':
      return {
        ...retireTurn(s, event.data.turnId),
        lastTurn: { turnId: event.data.turnId, outcome: 'failed', reason: event.data.reason },
        awaitingInput: null,
      };
    case 'SessionStalled':
      return { ...s, stalledReason: event.data.reason };
    case 'SessionClosed':
      return { ...(s.turn ? retireTurn(s, s.turn.turnId) : s), closed: true, awaitingInput: null };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
};

const evolveWith = (lists: Lists, state: Session, event: SessionEvent): Session => {
  const applied = apply(lists, state, event);
  const progressed = event.type === 'SessionStalled' ? applied : { ...applied, stalledReason: null };
  const withPending = { ...progressed, version: state.version + 1 };
  const pending = pendingOf(withPending);
  const next = { ...withPending, pending };
  return { ...next, status: statusOf(next) };
};

/** `state = events.reduce(evolve, initialSession())`: pure, total, and the only way state changes. */
export const evolve = (state: Session, event: SessionEvent): Session => evolveWith(COPIED, state, event);

/**
 * An `evolve` for one fold (`events.reduce(foldingEvolve(), from)`, `aggregate`): the same states,
 * but each state it returns shares its transcript lists with the next, which it changes in place;
 * so folding n events costs O(n) past one copy of the transcript, not O(n) per event. Only the
 * fold's last state may be kept; its input is never changed. Make a new one for each fold.
 */
export const foldingEvolve = (): ((state: Session, event: SessionEvent) => Session) => {
  const lists = foldOwned();
  return (state, event) => evolveWith(lists, state, event);
};
