import { effectIdempotencyKey, type ToolCallAction } from '../core/session/next-action.ts';
import type { RecordToolResult, RequestApproval } from '../core/session/session.commands.ts';
import type { ToolFailureReason } from '../core/session/session.events.ts';
import type { Session } from '../core/session/session.state.ts';
import { mcpTool, pinnedMcpTool } from '../tools/mcp/mcp-tool.ts';
import { abortedByTurn, type EffectDeps } from './effect-deps.ts';

export type RunToolOptions = Readonly<{
  /**
   * True when this runner took the session over from another owner that may have started the
   * call: a non-idempotent tool is then recorded `unknown-outcome` instead of run twice.
   */
  resumed?: boolean;
  /**
   * Called only when a non-idempotent tool is about to run (approval given, arguments valid), so an
   * attempt marker is never written for a call still waiting for approval. False means an earlier
   * owner may have started the call: it is recorded `unknown-outcome` instead of run twice.
   */
  claimAttempt?: () => Promise<boolean>;
}>;

const resultText = (value: unknown): string => {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value) ?? String(value);
};

/**
 * The only place a tool runs. Returns null when the call is no longer pending; `RequestApproval`
 * when the registered tool needs an approval not yet given; otherwise `RecordToolResult`.
 * Invalid arguments, unknown tools, timeouts and thrown errors become a failed result the model
 * reads, never a crash.
 */
export const runToolCall = async (
  deps: EffectDeps,
  state: Session,
  action: ToolCallAction,
  options: RunToolOptions = {},
): Promise<RecordToolResult | RequestApproval | null> => {
  const call = state.toolCalls[action.toolCallId];
  if (!call || call.status !== 'pending') return null;
  const metadata = () => ({
    commandId: `${state.sessionId}:${call.toolCallId}:result`,
    correlationId: deps.correlationId ?? `${state.sessionId}:${call.turnId}`,
    now: deps.clock(),
  });
  const monotonic = deps.monotonic ?? (() => performance.now());
  const started = monotonic();
  const failed = (reason: ToolFailureReason, message: string): RecordToolResult => ({
    type: 'RecordToolResult',
    data: {
      toolCallId: call.toolCallId,
      outcome: 'failed',
      reason,
      message: message.slice(0, 2_000),
      latencyMs: Math.round(monotonic() - started),
    },
    metadata: metadata(),
  });
  const pinned = deps.mcp ? pinnedMcpTool(state.spec, call.agent, call.name) : undefined;
  const tool = pinned && deps.mcp ? mcpTool(pinned, deps.mcp) : deps.tools.get(call.name);
  if (!tool) return failed('unknown-tool', `tool '${call.name}' is not registered`);
  if (tool.requiresApproval && call.approval !== 'granted') {
    if (call.approval !== 'none') return null;
    return { type: 'RequestApproval', data: { toolCallId: call.toolCallId }, metadata: metadata() };
  }
  let raw: unknown;
  try {
    raw = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch (error) {
    return failed('invalid-arguments', `arguments are not valid JSON: ${(error as Error).message}`);
  }
  const parsed = tool.parameters.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return failed('invalid-arguments', `invalid arguments for '${call.name}': ${issues}`);
  }
  const idempotent = tool.callIdempotent(parsed.data);
  if (!idempotent && (options.resumed || (options.claimAttempt && !(await options.claimAttempt()))))
    return failed('unknown-outcome', `'${call.name}' is not idempotent and may have run before a restart`);
  const timeout = AbortSignal.timeout(tool.timeoutMs);
  const signal = deps.signal ? AbortSignal.any([deps.signal, timeout]) : timeout;
  try {
    const value = await Promise.race([
      tool.execute(parsed.data, {
        idempotencyKey: effectIdempotencyKey(state, call.toolCallId),
        tenantId: state.tenantId,
        sessionId: state.sessionId,
        toolCallId: call.toolCallId,
        agent: call.agent,
        signal,
      }),
      new Promise<never>((_, reject) => {
        const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    return {
      type: 'RecordToolResult',
      data: {
        toolCallId: call.toolCallId,
        outcome: 'completed',
        result: resultText(value),
        latencyMs: Math.round(monotonic() - started),
      },
      metadata: metadata(),
    };
  } catch (error) {
    if (timeout.aborted && !deps.signal?.aborted)
      return failed('timeout', `'${call.name}' exceeded ${tool.timeoutMs} ms`);
    if (abortedByTurn(deps.signal, call.turnId))
      return idempotent
        ? failed('aborted', `'${call.name}' was aborted: its turn was cancelled`)
        : failed(
            'unknown-outcome',
            `'${call.name}' was aborted when its turn was cancelled and may have acted`,
          );
    if (deps.signal?.aborted) return failed('cancelled', `'${call.name}' was cancelled`);
    return failed('error', error instanceof Error ? error.message : String(error));
  }
};
