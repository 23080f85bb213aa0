import {
  contextForCall,
  contextHashOf,
  handoffToolSchemas,
  isOrchestratorCall,
  offeredToolNames,
  selectorCandidates,
} from '../core/prompt/model-context.ts';
import { orchestratorModel } from '../core/prompt/magentic-context.ts';
import type { ModelDelta, ModelRequest, ToolSchema } from '../core/model/model-client.port.ts';
import { effectIdempotencyKey, type NextAction } from '../core/session/next-action.ts';
import type { RecordModelCall, RecordSpeakerSelection } from '../core/session/session.commands.ts';
import type { ErrorInfo } from '../core/session/session.events.ts';
import type { ModelCallState, Session } from '../core/session/session.state.ts';
import type { ModelSpec, TeamSpec } from '../core/spec/team-spec.ts';
import { ModelCallError } from '../model/model-call-error.ts';
import { abortedByTurn, type DeltaSink, type EffectDeps } from './effect-deps.ts';

type ModelAction = Extract<NextAction, { kind: 'call_model' | 'select_speaker' }>;

/** The model a call uses: the agent's, or for the selector its own (else the first assistant's). */
export const modelSpecFor = (spec: TeamSpec, call: ModelCallState): ModelSpec | undefined => {
  if (isOrchestratorCall(call)) return orchestratorModel(spec);
  if (call.purpose === 'select_speaker') {
    const firstAssistant = spec.agents.find((a) => a.kind === 'assistant');
    return spec.selector?.model ?? (firstAssistant?.kind === 'assistant' ? firstAssistant.model : undefined);
  }
  const agent = spec.agents.find((a) => a.name === call.agent);
  return agent?.kind === 'assistant' ? agent.model : undefined;
};

const toolSchemasFor = (deps: EffectDeps, spec: TeamSpec, call: ModelCallState): ToolSchema[] => {
  const agent = spec.agents.find((a) => a.name === call.agent);
  if (!agent || agent.kind !== 'assistant' || call.purpose !== 'agent') return [];
  const registered = agent.tools.flatMap((name) => {
    const tool = deps.tools.get(name);
    return tool ? [tool.schema] : [];
  });
  const mcp = (agent.mcpTools ?? []).map((t) => ({
    name: t.name,
    description: t.description,
    parameters: t.inputSchema,
  }));
  return [...registered, ...mcp, ...handoffToolSchemas(agent)];
};

/** The request a model call sends, rebuilt from state (pure apart from the registry's schemas). */
export const buildModelRequest = (deps: EffectDeps, state: Session, call: ModelCallState): ModelRequest => {
  const spec = state.spec!;
  const agent = spec.agents.find((a) => a.name === call.agent);
  const candidates =
    call.purpose === 'select_speaker'
      ? selectorCandidates(spec, state.lastSpeaker).map((a) => a.name)
      : call.purpose === 'progress_ledger'
        ? spec.agents.map((a) => a.name)
        : undefined;
  return {
    messages: contextForCall(state, call),
    tools: toolSchemasFor(deps, spec, call),
    agent: call.agent,
    purpose: call.purpose,
    idempotencyKey: effectIdempotencyKey(state, call.callId),
    ...(agent?.kind === 'assistant' && agent.parallelToolCalls !== undefined
      ? { parallelToolCalls: agent.parallelToolCalls }
      : {}),
    ...(candidates ? { candidates } : {}),
    ...(modelSpecFor(spec, call) ? { model: modelSpecFor(spec, call)! } : {}),
  };
};

/** What a failed call records: a short reason (events are tenant-readable; no upstream text). */
const errorInfo = (error: unknown, timedOut: boolean, aborted: boolean): ErrorInfo => {
  if (aborted)
    return { type: 'aborted', message: 'the turn was cancelled during the call', retryable: false };
  if (timedOut)
    return { type: 'timeout', message: 'the model call exceeded its time limit', retryable: true };
  if (error instanceof ModelCallError)
    return { type: error.type, message: error.message.slice(0, 120), retryable: error.retryable };
  return { type: 'error', message: 'the model client failed', retryable: false };
};

/**
 * The only place a model is called. Returns null when the call is no longer pending (already
 * recorded, or its turn ended); otherwise the `Record…` command with the outcome, success or
 * failure, for `decide`. The context is rebuilt from state and checked against the recorded hash.
 */
export const runModelCall = async (
  deps: EffectDeps,
  state: Session,
  action: ModelAction,
): Promise<RecordModelCall | RecordSpeakerSelection | null> => {
  const call = state.modelCalls[action.callId];
  if (!call || call.status !== 'pending' || !state.spec) return null;
  const type = call.purpose === 'select_speaker' ? 'RecordSpeakerSelection' : 'RecordModelCall';
  const metadata = () => ({
    commandId: `${state.sessionId}:${call.callId}:result`,
    correlationId: deps.correlationId ?? `${state.sessionId}:${call.turnId}`,
    now: deps.clock(),
  });
  const request = buildModelRequest(deps, state, call);
  const hash = contextHashOf(request.messages, offeredToolsFor(state.spec, call));
  if (hash !== call.contextHash)
    return {
      type,
      data: {
        callId: call.callId,
        outcome: 'failed',
        error: {
          type: 'context_mismatch',
          message: 'rebuilt context does not match the recorded hash',
          retryable: false,
        },
        latencyMs: 0,
      },
      metadata: metadata(),
    };
  const monotonic = deps.monotonic ?? (() => performance.now());
  const timeout = AbortSignal.timeout(deps.modelCallTimeoutMs ?? 120_000);
  const signal = deps.signal ? AbortSignal.any([deps.signal, timeout]) : timeout;
  const started = monotonic();
  try {
    const client = deps.models(request.model, { agent: call.agent, purpose: call.purpose });
    const onDelta = deps.deltas && deltaPublisher(deps.deltas, state, call);
    const response = await client.complete(request, { signal, ...(onDelta ? { onDelta } : {}) });
    await flushed(deps.deltas);
    const latencyMs = Math.round(monotonic() - started);
    return {
      type,
      data: {
        callId: call.callId,
        outcome: 'completed',
        content: response.content,
        toolCalls: response.toolCalls,
        usage: response.usage,
        finishReason: response.finishReason,
        latencyMs,
        ...(response.model ? { model: response.model } : {}),
      },
      metadata: metadata(),
    };
  } catch (error) {
    await flushed(deps.deltas);
    const latencyMs = Math.round(monotonic() - started);
    const timedOut = timeout.aborted && !deps.signal?.aborted;
    return {
      type,
      data: {
        callId: call.callId,
        outcome: 'failed',
        error: errorInfo(error, timedOut, abortedByTurn(deps.signal, call.turnId)),
        latencyMs,
      },
      metadata: metadata(),
    };
  }
};

/** Stamps each piece with the call's ids (those of its `ModelCallRequested`) and its order. */
const deltaPublisher = (sink: DeltaSink, state: Session, call: ModelCallState) => {
  let seq = 0;
  return (delta: ModelDelta): void => {
    const { kind, attempt } = delta;
    sink.publish({
      tenantId: state.tenantId,
      sessionId: state.sessionId,
      callId: call.callId,
      turnId: call.turnId,
      agent: call.agent,
      attempt,
      seq: seq++,
      kind,
      ...(delta.kind === 'text'
        ? { text: delta.text }
        : {
            toolCall: {
              index: delta.index,
              argsDelta: delta.argsDelta,
              ...(delta.id === undefined ? {} : { id: delta.id }),
              ...(delta.name === undefined ? {} : { name: delta.name }),
            },
          }),
    });
  };
};

/** Deltas go out before the outcome is recorded, so watchers see them before the call's event. */
const flushed = async (sink: DeltaSink | undefined): Promise<void> => {
  await sink?.flush().catch(() => undefined);
};

const offeredToolsFor = (spec: TeamSpec, call: ModelCallState): string[] => {
  if (call.purpose === 'select_speaker') return [];
  const agent = spec.agents.find((a) => a.name === call.agent);
  return agent?.kind === 'assistant' ? offeredToolNames(agent, call.purpose) : [];
};
