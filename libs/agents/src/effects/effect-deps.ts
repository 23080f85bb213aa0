import type { SessionDelta } from '@agentledger/events';
import type { SessionCommand } from '../core/session/session.commands.ts';
import type { McpToolCaller } from '../tools/mcp/mcp-tool.ts';
import type { ToolRegistry } from '../tools/tool.ts';
import type { ModelClientResolver } from '../model/model-resolver.ts';

/**
 * Where a model call's output goes as it streams (the orchestrator: the deltas channel). Best
 * effort: it never fails a call, and nothing it carries is recorded.
 */
export type DeltaSink = Readonly<{
  publish: (delta: SessionDelta) => void;
  /** Resolves once what was published is handed over (before the call's outcome is recorded). */
  flush: () => Promise<void>;
}>;

/** What the effect runners need; the orchestrator's workers and `runTeam` build the same thing. */
export type EffectDeps = Readonly<{
  models: ModelClientResolver;
  tools: ToolRegistry;
  /** Calls the operator's MCP servers for tools pinned in a spec; absent: MCP tools are unknown. */
  mcp?: McpToolCaller;
  /** The clock that stamps command metadata (time enters the log only through commands). */
  clock: () => Date;
  /** Shutdown or cancel: aborts in-flight model and tool calls. */
  signal?: AbortSignal;
  /** Per model call (all retries included); default 120 s. */
  modelCallTimeoutMs?: number;
  /** Monotonic milliseconds for latencies; default performance.now. */
  monotonic?: () => number;
  /** Set: model calls stream, their pieces go here; absent: calls are made whole. */
  deltas?: DeltaSink;
  /** Correlation id put on the commands (e.g. the triggering event's id). */
  correlationId?: string;
}>;

export const combinedSignal = (timeoutMs: number, outer?: AbortSignal): AbortSignal =>
  outer ? AbortSignal.any([outer, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);

/**
 * The abort reason when a turn is cancelled (cancel, close or interrupt): in-flight calls stop and
 * their outcome is recorded as aborted. Any other reason (shutdown, a lost lease) drops the results
 * for the next owner to retry.
 */
export class TurnAborted extends Error {
  readonly code = 'turn_aborted';
  readonly retryable = false;
  readonly turnId: string;
  constructor(turnId: string) {
    super(`turn ${turnId} was cancelled`);
    this.turnId = turnId;
    this.name = 'TurnAborted';
  }
}

/** Whether `signal` was aborted because turn `turnId` was cancelled (not shutdown or a lost lease). */
export const abortedByTurn = (signal: AbortSignal | undefined, turnId: string): boolean =>
  signal?.aborted === true && signal.reason instanceof TurnAborted && signal.reason.turnId === turnId;

/** A recorded outcome of a call cut short by its turn's cancellation (what `step` keeps after one). */
export const isAbortedOutcome = (command: SessionCommand): boolean => {
  if (command.type === 'RecordModelCall' || command.type === 'RecordSpeakerSelection')
    return command.data.outcome === 'failed' && command.data.error.type === 'aborted';
  if (command.type === 'RecordToolResult')
    return command.data.outcome === 'failed' && ['aborted', 'unknown-outcome'].includes(command.data.reason);
  return false;
};
