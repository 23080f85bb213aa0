import type { ModelCallPurpose } from './session.events.ts';
import type { Session, SessionStatus } from './session.state.ts';

/**
 * The idempotency key a model or tool call passes to the outside world: `<tenantId>/<sessionId>:<id>`.
 * Ids derive from the work (`t1.s1.m1`), so two tenants' sessions of one id have the same call ids:
 * the tenant keeps their keys apart, and an endpoint or business system that dedupes by key never
 * answers one tenant with another's result.
 */
export const effectIdempotencyKey = (state: Pick<Session, 'tenantId' | 'sessionId'>, id: string): string =>
  `${state.tenantId}/${state.sessionId}:${id}`;

export type ToolCallAction = Readonly<{
  toolCallId: string;
  /** `effectIdempotencyKey(state, toolCallId)`: what the tool passes to the outside world. */
  idempotencyKey: string;
  agent: string;
  name: string;
  arguments: string;
  /** A human approved this call (ToolApprovalGranted). */
  approved: boolean;
}>;

/**
 * What the session needs next, derived from state alone. The effect runners perform the
 * `call_model`, `select_speaker` and `run_tools` actions and return the `Record…` command; the
 * other kinds mean "nothing to do until a client acts".
 */
export type NextAction =
  | Readonly<{
      kind: 'call_model';
      callId: string;
      agent: string;
      purpose: Exclude<ModelCallPurpose, 'select_speaker'>;
      idempotencyKey: string;
      contextHash: string;
    }>
  | Readonly<{ kind: 'select_speaker'; callId: string; idempotencyKey: string; contextHash: string }>
  | Readonly<{ kind: 'run_tools'; calls: readonly ToolCallAction[] }>
  | Readonly<{ kind: 'await_approval'; toolCallIds: readonly string[] }>
  | Readonly<{ kind: 'await_input'; agent: string; reason: 'user_proxy' | 'handoff' }>
  | Readonly<{ kind: 'idle'; status: SessionStatus }>
  | Readonly<{ kind: 'closed' }>;

export type NextActionKind = NextAction['kind'];

/** True when the session has work an effect runner can do now (what the orchestrator schedules). */
export const hasRunnableWork = (state: Session): boolean => {
  const kind = nextAction(state).kind;
  return kind === 'call_model' || kind === 'select_speaker' || kind === 'run_tools';
};

export const nextAction = (state: Session): NextAction => {
  if (state.closed) return { kind: 'closed' };
  const turn = state.turn;
  if (!turn) {
    if (state.awaitingInput) return { kind: 'await_input', ...state.awaitingInput };
    return { kind: 'idle', status: state.status };
  }
  const callId = turn.stepCalls.at(-1);
  const call = callId ? state.modelCalls[callId] : undefined;
  if (call && call.status === 'pending') {
    const idempotencyKey = effectIdempotencyKey(state, call.callId);
    if (call.purpose === 'select_speaker')
      return { kind: 'select_speaker', callId: call.callId, idempotencyKey, contextHash: call.contextHash };
    return {
      kind: 'call_model',
      callId: call.callId,
      agent: call.agent,
      purpose: call.purpose,
      idempotencyKey,
      contextHash: call.contextHash,
    };
  }
  const pendingTools = turn.batch.map((id) => state.toolCalls[id]!).filter((t) => t.status === 'pending');
  const runnable = pendingTools.filter((t) => t.approval === 'none' || t.approval === 'granted');
  if (runnable.length > 0) {
    const limit = state.spec?.limits.maxParallelToolCalls ?? 4;
    return {
      kind: 'run_tools',
      calls: runnable.slice(0, limit).map((t) => ({
        toolCallId: t.toolCallId,
        idempotencyKey: effectIdempotencyKey(state, t.toolCallId),
        agent: t.agent,
        name: t.name,
        arguments: t.arguments,
        approved: t.approval === 'granted',
      })),
    };
  }
  if (pendingTools.length > 0)
    return { kind: 'await_approval', toolCallIds: pendingTools.map((t) => t.toolCallId) };
  if (state.awaitingInput) return { kind: 'await_input', ...state.awaitingInput };
  return { kind: 'idle', status: state.status };
};
