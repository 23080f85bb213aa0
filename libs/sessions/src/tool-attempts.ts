import type { Lease } from './session-index.ts';

/**
 * Markers written before a non-idempotent tool runs. After a crash, a requested tool call with a
 * marker may have reached the outside world: it is recorded as `unknown-outcome`, never re-run.
 * A call without a marker never started and runs normally.
 */
export type ToolAttempts = Readonly<{
  /** True when this is the first attempt of the call (the marker was written now). */
  markAttempt: (lease: Lease, toolCallId: string) => Promise<boolean>;
}>;
