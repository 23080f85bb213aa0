import { IllegalSessionState, SessionBusy, SessionClosedError, UnknownToolCall } from '../errors.ts';
import { teamSpecHash } from '../spec/team-spec.ts';
import { advance, stopReason } from './session.advance.ts';
import type {
  CancelTurn,
  CheckTimeout,
  CloseSession,
  DecideApproval,
  ForkSession,
  MarkStalled,
  PostUserMessage,
  RecordModelCall,
  RecordSpeakerSelection,
  RecordToolResult,
  RequestApproval,
  SessionCommand,
  StartSession,
} from './session.commands.ts';
import type { SessionEvent } from './session.events.ts';
import { evolve } from './session.evolve.ts';
import type { Session } from './session.state.ts';

/** The decision for one command: the events to append, `[]` for a duplicate or late one. */
export const decide = (command: SessionCommand, state: Session): readonly SessionEvent[] => {
  switch (command.type) {
    case 'StartSession':
      return startSession(command, state);
    case 'ForkSession':
      return forkSession(command, state);
    case 'PostUserMessage':
      return postUserMessage(command, state);
    case 'RecordModelCall':
    case 'RecordSpeakerSelection':
      return recordModelCall(command, state);
    case 'RecordToolResult':
      return recordToolResult(command, state);
    case 'RequestApproval':
      return requestApproval(command, state);
    case 'DecideApproval':
      return decideApproval(command, state);
    case 'CancelTurn':
      return cancelTurn(command, state);
    case 'CloseSession':
      return closeSession(command, state);
    case 'MarkStalled':
      return markStalled(command, state);
    case 'CheckTimeout':
      return checkTimeout(command, state);
    default: {
      const unhandled: never = command;
      throw new IllegalSessionState(`unknown command ${(unhandled as { type: string }).type}`);
    }
  }
};

/** Appends `first`, then follows the session to its next waiting point. */
const andAdvance = (state: Session, first: readonly SessionEvent[], now: Date): SessionEvent[] => {
  const after = first.reduce(evolve, state);
  return [...first, ...advance(after, now)];
};

const requireOpen = (state: Session): void => {
  if (!state.spec) throw new IllegalSessionState('session not started');
  if (state.closed) throw new SessionClosedError(state.sessionId);
};

const startSession = ({ data, metadata }: StartSession, state: Session): SessionEvent[] => {
  const specHash = teamSpecHash(data.spec);
  if (state.spec) {
    if (state.sessionId === data.sessionId && state.specHash === specHash && state.teamId === data.teamId)
      return [];
    throw new IllegalSessionState(`session ${state.sessionId} already started with another team spec`);
  }
  if (state.version > 0) throw new IllegalSessionState('session already exists');
  return [
    {
      type: 'SessionStarted',
      data: { ...data, specHash, at: metadata.now.toISOString() },
    },
  ];
};

const forkSession = ({ data, metadata }: ForkSession, state: Session): SessionEvent[] => {
  if (state.version > 0) {
    if (state.forkedFrom?.sessionId === data.parentSessionId && state.forkedFrom.atVersion === data.atVersion)
      return [];
    throw new IllegalSessionState(`session ${state.sessionId} already exists`);
  }
  if (data.parentEvents.length !== data.atVersion || data.parentEvents[0]?.type === undefined)
    throw new IllegalSessionState(
      `a fork at version ${data.atVersion} needs exactly that many parent events`,
    );
  return [{ type: 'SessionForked', data: { ...data, at: metadata.now.toISOString() } }];
};

const postUserMessage = ({ data, metadata }: PostUserMessage, state: Session): SessionEvent[] => {
  requireOpen(state);
  if (state.messages.some((m) => m.id === data.messageId)) return [];
  const received = (source: string): SessionEvent => ({
    type: 'UserMessageReceived',
    data: { messageId: data.messageId, content: data.content, source, at: metadata.now.toISOString() },
  });
  const turn = state.turn;
  if (turn && turn.phase === 'awaiting_input' && state.awaitingInput) {
    const source = state.awaitingInput.reason === 'user_proxy' ? state.awaitingInput.agent : 'user';
    return andAdvance(state, [received(source)], metadata.now);
  }
  if (turn) {
    switch (state.spec?.onBusy) {
      case 'reject':
        throw new SessionBusy(state.sessionId);
      case 'interrupt':
        return andAdvance(
          state,
          [
            {
              type: 'TurnCancelled',
              data: {
                turnId: turn.turnId,
                reason: 'interrupted by a new message',
                at: metadata.now.toISOString(),
              },
            },
            received('user'),
          ],
          metadata.now,
        );
      default:
        return [received('user')];
    }
  }
  return andAdvance(state, [received('user')], metadata.now);
};

const recordModelCall = (
  { data, metadata }: RecordModelCall | RecordSpeakerSelection,
  state: Session,
): SessionEvent[] => {
  const call = state.modelCalls[data.callId];
  if (!call) {
    if (data.outcome !== 'failed' || !isAbortedRecord(state, data.callId, data.error.type === 'aborted'))
      return [];
    return [
      {
        type: 'ModelCallFailed',
        data: { callId: data.callId, error: data.error, latencyMs: data.latencyMs },
      },
    ];
  }
  if (call.status !== 'pending') return [];
  if (data.outcome === 'failed')
    return andAdvance(
      state,
      [
        {
          type: 'ModelCallFailed',
          data: { callId: data.callId, error: data.error, latencyMs: data.latencyMs },
        },
      ],
      metadata.now,
    );
  const completed: SessionEvent = {
    type: 'ModelCallCompleted',
    data: {
      callId: data.callId,
      content: data.content,
      toolCalls: data.toolCalls,
      usage: data.usage,
      finishReason: data.finishReason,
      latencyMs: data.latencyMs,
      contextHash: call.contextHash,
      ...(data.model === undefined ? {} : { model: data.model }),
    },
  };
  if (call.purpose !== 'agent') return andAdvance(state, [completed], metadata.now);
  const agent = state.spec?.agents.find((a) => a.name === call.agent);
  const assistant = agent?.kind === 'assistant' ? agent : undefined;
  const tools: SessionEvent[] = data.toolCalls.flatMap((tc, i): SessionEvent[] => {
    if (assistant?.handoffs.some((h) => h.name === tc.name)) return [];
    const toolCallId = `${data.callId}.t${i}`;
    const requested: SessionEvent = {
      type: 'ToolCallRequested',
      data: { toolCallId, callId: data.callId, agent: call.agent, name: tc.name, arguments: tc.arguments },
    };
    const offered =
      assistant?.tools.includes(tc.name) || assistant?.mcpTools?.some((t) => t.name === tc.name);
    if (!assistant || !offered)
      return [
        requested,
        {
          type: 'ToolCallFailed',
          data: {
            toolCallId,
            reason: 'unknown-tool',
            message: `tool '${tc.name}' is not available to ${call.agent}`,
            latencyMs: 0,
          },
        },
      ];
    if (!assistant.approvalRequired.includes(tc.name)) return [requested];
    const approval = { toolCallId, name: tc.name, arguments: tc.arguments, agent: call.agent };
    return [requested, approvalRequested(state, approval, metadata.now)];
  });
  return andAdvance(state, [completed, ...tools], metadata.now);
};

const recordToolResult = ({ data, metadata }: RecordToolResult, state: Session): SessionEvent[] => {
  const tool = state.toolCalls[data.toolCallId];
  if (!tool) {
    const aborted = data.outcome === 'failed' && ABORTED_TOOL_REASONS.includes(data.reason);
    if (data.outcome === 'completed' || !isAbortedRecord(state, data.toolCallId, aborted)) return [];
    const { toolCallId, reason, message, latencyMs } = data;
    return [{ type: 'ToolCallFailed', data: { toolCallId, reason, message, latencyMs } }];
  }
  if (tool.status !== 'pending') return [];
  if (tool.approval === 'requested' && data.outcome === 'completed') return [];
  const event: SessionEvent =
    data.outcome === 'completed'
      ? {
          type: 'ToolCallCompleted',
          data: { toolCallId: data.toolCallId, result: data.result, latencyMs: data.latencyMs },
        }
      : {
          type: 'ToolCallFailed',
          data: {
            toolCallId: data.toolCallId,
            reason: data.reason,
            message: data.message,
            latencyMs: data.latencyMs,
          },
        };
  return andAdvance(state, [event], metadata.now);
};

const ABORTED_TOOL_REASONS: readonly string[] = ['aborted', 'unknown-outcome'];

/**
 * The outcome of a call cut short by its turn's cancellation: recorded once, after `TurnCancelled`,
 * without advancing the session (its turn is over). Anything else for a retired call is late.
 */
const isAbortedRecord = (state: Session, callId: string, aborted: boolean): boolean =>
  aborted && (state.abortedCalls?.includes(callId) ?? false);

/** A tool call id of a turn that has ended (its record is gone): `t<n>.…` with n ≤ turnCount. */
const isPastCall = (state: Session, toolCallId: string): boolean => {
  const turn = /^t(\d+)\./.exec(toolCallId);
  return turn !== null && Number(turn[1]) <= state.turnCount;
};

const requestApproval = ({ data, metadata }: RequestApproval, state: Session): SessionEvent[] => {
  const tool = state.toolCalls[data.toolCallId];
  if (!tool) {
    if (isPastCall(state, data.toolCallId)) return [];
    throw new UnknownToolCall(data.toolCallId);
  }
  if (tool.status !== 'pending' || tool.approval !== 'none') return [];
  const { toolCallId, name, arguments: args, agent } = tool;
  return [approvalRequested(state, { toolCallId, name, arguments: args, agent }, metadata.now)];
};

/** The request, stamped with its time and deadline only when the team declares an approval deadline. */
const approvalRequested = (
  state: Session,
  data: Readonly<{ toolCallId: string; name: string; arguments: string; agent: string }>,
  now: Date,
): SessionEvent => {
  const seconds = state.spec?.approvals?.timeoutSeconds;
  if (seconds === undefined) return { type: 'ToolApprovalRequested', data };
  const expiresAt = new Date(now.getTime() + seconds * 1000).toISOString();
  return { type: 'ToolApprovalRequested', data: { ...data, at: now.toISOString(), expiresAt } };
};

const decideApproval = ({ data, metadata }: DecideApproval, state: Session): SessionEvent[] => {
  requireOpen(state);
  const tool = state.toolCalls[data.toolCallId];
  if (!tool) {
    if (isPastCall(state, data.toolCallId)) return [];
    throw new UnknownToolCall(data.toolCallId);
  }
  if (tool.status !== 'pending' || tool.approval !== 'requested') return [];
  const who = {
    toolCallId: data.toolCallId,
    ...(data.actor === undefined ? {} : { actor: data.actor }),
    ...(data.reason === undefined ? {} : { reason: data.reason }),
  };
  if (data.approve) return [{ type: 'ToolApprovalGranted', data: who }];
  return andAdvance(
    state,
    [
      { type: 'ToolApprovalDenied', data: who },
      {
        type: 'ToolCallFailed',
        data: {
          toolCallId: data.toolCallId,
          reason: 'approval-denied',
          message: `the user denied this tool call${data.reason ? `: ${data.reason}` : ''}`,
          latencyMs: 0,
        },
      },
    ],
    metadata.now,
  );
};

const cancelTurn = ({ data, metadata }: CancelTurn, state: Session): SessionEvent[] => {
  requireOpen(state);
  if (!state.turn) return [];
  const cancelled: SessionEvent = {
    type: 'TurnCancelled',
    data: { turnId: state.turn.turnId, reason: data.reason ?? 'cancelled', at: metadata.now.toISOString() },
  };
  return andAdvance(state, [cancelled], metadata.now);
};

const closeSession = ({ data, metadata }: CloseSession, state: Session): SessionEvent[] => {
  if (!state.spec) throw new IllegalSessionState('session not started');
  if (state.closed) return [];
  const at = metadata.now.toISOString();
  const cancel: SessionEvent[] = state.turn
    ? [{ type: 'TurnCancelled', data: { turnId: state.turn.turnId, reason: 'session closed', at } }]
    : [];
  return [
    ...cancel,
    { type: 'SessionClosed', data: { ...(data.reason === undefined ? {} : { reason: data.reason }), at } },
  ];
};

const markStalled = ({ data, metadata }: MarkStalled, state: Session): SessionEvent[] => {
  if (!state.turn || state.closed || state.stalledReason !== null) return [];
  return [{ type: 'SessionStalled', data: { reason: data.reason, at: metadata.now.toISOString() } }];
};

/**
 * Deadlines passed by `now` (the watchdog's clock): the turn's timeout completes the turn whatever
 * it waits for (a model call, a tool, an approval, input); a pending approval past its own deadline
 * is denied (`approvals.onTimeout: deny`). Calls still out are aborted by the host; their late
 * results are no-ops (or recorded once as aborted).
 */
const checkTimeout = ({ metadata }: CheckTimeout, state: Session): SessionEvent[] => {
  const turn = state.turn;
  if (!turn || !state.spec || state.closed) return [];
  const now = metadata.now;
  const reason = stopReason(state, state.spec, turn, now);
  if (reason !== null)
    return andAdvance(
      state,
      [{ type: 'TurnCompleted', data: { turnId: turn.turnId, reason, at: now.toISOString() } }],
      now,
    );
  const expired = expiredApprovals(state, now);
  if (expired.length === 0) return advance(state, now);
  const seconds = state.spec.approvals?.timeoutSeconds;
  const why = `no decision within the approval deadline${seconds === undefined ? '' : ` of ${seconds} s`}`;
  return andAdvance(
    state,
    expired.flatMap((toolCallId) => deniedOnTimeout(toolCallId, why, now)),
    now,
  );
};

/** Tool calls of the running turn whose approval is still requested past its deadline. */
const expiredApprovals = (state: Session, now: Date): string[] =>
  (state.turn?.batch ?? []).filter((id) => {
    const tool = state.toolCalls[id];
    return (
      tool?.status === 'pending' &&
      tool.approval === 'requested' &&
      tool.approvalExpiresAt !== undefined &&
      Date.parse(tool.approvalExpiresAt) <= now.getTime()
    );
  });

/** `approvals.onTimeout: deny`: what a person's denial records, marked as the deadline's. */
const deniedOnTimeout = (toolCallId: string, why: string, now: Date): SessionEvent[] => [
  { type: 'ToolApprovalDenied', data: { toolCallId, reason: why, timedOut: true, at: now.toISOString() } },
  {
    type: 'ToolCallFailed',
    data: {
      toolCallId,
      reason: 'approval-denied',
      message: `the tool call was denied: ${why}`,
      latencyMs: 0,
    },
  },
];
