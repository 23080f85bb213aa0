import {
  DEFAULT_ENDPOINT,
  modelSpecFor,
  type Session,
  type SessionCommand,
  type ToolCallAction,
} from '@agentledger/agents';
import {
  activeIn,
  inSpan,
  recordFailure,
  SpanKind,
  SpanStatusCode,
  startSpan,
  traceIdOf,
  type Attributes,
  type Span,
} from '@agentledger/telemetry';
import type { SessionRef } from './session-engine.ts';
import type { ModelAction, ModelResult, StepOutcome } from './session-step.ts';

/**
 * The span of a worker's step: its model, tool and append spans are its children, so a turn is one
 * trace. It starts under the delivery that brought the work when that delivery belongs to the
 * session's running turn (else under the turn's own trace: a recovery, an older delivery), and is
 * replaced when the step moves on to a turn of another trace (a message queued behind the last).
 */
export const createStepSpan = (ref: SessionRef, delivered: string | undefined, turn: string | undefined) => {
  const attributes = { 'agentledger.tenant': ref.tenantId, 'agentledger.session.id': ref.sessionId };
  const open = (traceparent: string | undefined): Span =>
    startSpan('session.step', { attributes, ...(traceparent === undefined ? {} : { traceparent }) });
  let span = open(turn === undefined || traceIdOf(delivered) === traceIdOf(turn) ? delivered : turn);
  return {
    /** Continues in `turn`'s trace from now on (a new span when it is another trace). */
    follow: (next: string | undefined): void => {
      if (next === undefined || traceIdOf(next) === span.spanContext().traceId) return;
      span.end();
      span = open(next);
    },
    run: <T>(work: () => Promise<T>): Promise<T> => activeIn(span, work),
    end: (outcome: StepOutcome | undefined, error?: unknown): void => {
      if (outcome)
        span.setAttributes({
          'agentledger.step.status': outcome.status,
          'agentledger.step.count': outcome.steps,
        });
      if (error !== undefined) recordFailure(span, error);
      span.end();
    },
  };
};

export type StepSpan = ReturnType<typeof createStepSpan>;

/** `gen_ai.provider.name` (and the older `gen_ai.system`) of each model provider of a team spec. */
const GEN_AI_PROVIDER: Readonly<Record<string, string>> = {
  openai: 'openai',
  azure_openai: 'azure.ai.openai',
  scripted: 'agentledger.scripted',
};

const modelAttributes = (state: Session, action: ModelAction): Attributes => {
  const call = state.modelCalls[action.callId];
  const spec = call && state.spec ? modelSpecFor(state.spec, call) : undefined;
  const provider = GEN_AI_PROVIDER[spec?.provider ?? 'openai'] ?? 'openai';
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.system': provider,
    'gen_ai.provider.name': provider,
    'gen_ai.request.model': spec?.model ?? 'unknown',
    ...(call ? { 'gen_ai.agent.name': call.agent } : {}),
    'agentledger.model.endpoint': spec?.endpoint ?? DEFAULT_ENDPOINT,
    'agentledger.model_call.id': action.callId,
    'agentledger.model_call.purpose': action.kind,
  };
};

/**
 * One model call as a GenAI client span (semantic conventions: provider, requested model, tokens
 * in and out, finish reasons). Attributes only: never the prompt or the answer.
 */
export const traceModelCall = (
  state: Session,
  action: ModelAction,
  call: () => Promise<ModelResult | null>,
): Promise<ModelResult | null> => {
  const attributes = modelAttributes(state, action);
  return inSpan(
    `chat ${String(attributes['gen_ai.request.model'])}`,
    { kind: SpanKind.CLIENT, attributes },
    async (span) => {
      const result = await call();
      if (result?.data.outcome === 'completed') {
        span.setAttributes({
          'gen_ai.usage.input_tokens': result.data.usage.promptTokens,
          'gen_ai.usage.output_tokens': result.data.usage.completionTokens,
          'gen_ai.response.finish_reasons': [result.data.finishReason],
          ...(result.data.model ? { 'gen_ai.response.model': result.data.model } : {}),
        });
      } else if (result?.data.outcome === 'failed') {
        span.setAttributes({
          'error.type': result.data.error.type,
          'agentledger.retryable': result.data.error.retryable,
        });
        span.setStatus({ code: SpanStatusCode.ERROR, message: result.data.error.type });
      }
      return result;
    },
  );
};

const toolOutcomeOf = (command: SessionCommand | null): string => {
  if (command === null) return 'skipped';
  if (command.type === 'RecordToolResult') return command.data.outcome;
  return command.type === 'RequestApproval' ? 'approval_requested' : command.type;
};

/** One tool call as a GenAI `execute_tool` span: the tool's name, its call id and the outcome. */
export const traceToolCall = (
  call: ToolCallAction,
  run: () => Promise<SessionCommand | null>,
): Promise<SessionCommand | null> =>
  inSpan(
    `execute_tool ${call.name}`,
    {
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': call.name,
        'gen_ai.tool.call.id': call.toolCallId,
        'gen_ai.agent.name': call.agent,
      },
    },
    async (span) => {
      const command = await run();
      const outcome = toolOutcomeOf(command);
      span.setAttribute('agentledger.tool.outcome', outcome);
      if (command?.type === 'RecordToolResult' && command.data.outcome === 'failed') {
        span.setAttribute('error.type', command.data.reason);
        span.setStatus({ code: SpanStatusCode.ERROR, message: command.data.reason });
      }
      return command;
    },
  );
