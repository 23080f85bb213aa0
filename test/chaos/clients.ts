export type SessionView = Readonly<{ status: string; version: number; approvals: readonly string[] }>;

/** What a business system does with a session, over one protocol; every call retries until `deadline`. */
export type Driver = Readonly<{
  protocol: 'rest' | 'grpc';
  createSession: (sessionId: string, teamId: string) => Promise<void>;
  /** Resolves once the gateway accepted the message (202 / OK), with the version it was stored at. */
  send: (sessionId: string, content: string, idempotencyKey: string) => Promise<number>;
  view: (sessionId: string) => Promise<SessionView>;
  approve: (sessionId: string, toolCallId: string) => Promise<void>;
  /** One live stream of the session's events after `after` (SSE / StreamEvents); no retry. */
  follow: (sessionId: string, after: number, onVersion: (version: number) => void) => Subscription;
  close: () => void;
}>;

/** `ended` settles when the stream ends or breaks (a cut connection, a gateway restart). */
export type Subscription = Readonly<{ cancel: () => void; ended: Promise<unknown> }>;

/** A failure retrying cannot fix (4xx other than 408/429): the session fails with this reason. */
export class PermanentFailure extends Error {}

/** Retries, and the transient errors behind them by protocol, call and message. */
export type RetryStats = { retries: number; errors: Record<string, number> };

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries transient failures with the same request (and so the same idempotency key). */
export const withRetry = async <T>(
  what: string,
  stats: RetryStats,
  attempt: () => Promise<T>,
  deadlineMs = 180_000,
): Promise<T> => {
  const deadline = Date.now() + deadlineMs;
  for (let tries = 0; ; tries += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof PermanentFailure || Date.now() > deadline)
        throw new PermanentFailure(`${what}: ${(error as Error).message}`);
      stats.retries += 1;
      const reason = `${what}: ${(error as Error).message.replace(/\d+/g, 'N').slice(0, 80)}`;
      stats.errors[reason] = (stats.errors[reason] ?? 0) + 1;
      await pause(Math.min(2_000, 100 * 2 ** Math.min(tries, 5)) * (0.5 + Math.random()));
    }
  }
};
