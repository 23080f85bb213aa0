import type { ToolRegistry } from '../tools/tool.ts';
import type { ModelClientResolver } from '../model/model-resolver.ts';

/** What the effect runners need; the orchestrator's workers and `runTeam` build the same thing. */
export type EffectDeps = Readonly<{
  models: ModelClientResolver;
  tools: ToolRegistry;
  /** The clock that stamps command metadata (time enters the log only through commands). */
  clock: () => Date;
  /** Shutdown or cancel: aborts in-flight model and tool calls. */
  signal?: AbortSignal;
  /** Per model call (all retries included); default 120 s. */
  modelCallTimeoutMs?: number;
  /** Monotonic milliseconds for latencies; default performance.now. */
  monotonic?: () => number;
  /** Correlation id put on the commands (e.g. the triggering event's id). */
  correlationId?: string;
}>;

export const combinedSignal = (timeoutMs: number, outer?: AbortSignal): AbortSignal =>
  outer ? AbortSignal.any([outer, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
