import { PermanentFailure, type Driver } from './clients.ts';
import { followSession, type Follower } from './followers.ts';
import type { Random } from './random.ts';

export type Accepted = Readonly<{
  sessionId: string;
  idempotencyKey: string;
  content: string;
  version: number;
}>;
export type ClientOutcome = Readonly<{
  sessionId: string;
  protocol: string;
  turnsSeen: number;
  error?: string;
}>;

export type WorkloadOptions = Readonly<{
  sessions: number;
  turns: number;
  /** Sessions start spread over this long. */
  rampMs: number;
  pollMs: number;
  /** A seeded pause before each next turn (inclusive range), so sessions live through the faults. */
  thinkMs: readonly [number, number];
  /** A turn not finished this long after it was accepted counts as failed by the client. */
  turnDeadlineMs: number;
  /** Every n-th session is also watched live (SSE or gRPC StreamEvents) by a resuming follower. */
  followEvery: number;
  teamId: string;
  prefix: string;
}>;

const TOOLS = ['ledger', 'charge', 'refund'] as const;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Drives one session's turns one after another, approving what waits for approval. */
const driveSession = async (
  driver: Driver,
  sessionId: string,
  tools: readonly string[],
  thinks: readonly number[],
  options: WorkloadOptions,
  accepted: Accepted[],
  follow: (() => void) | undefined,
): Promise<ClientOutcome> => {
  let turnsSeen = 0;
  try {
    await driver.createSession(sessionId, options.teamId);
    follow?.();
    for (const [i, tool] of tools.entries()) {
      if (i > 0) await pause(thinks[i]!);
      const content = `turn ${i + 1} of ${sessionId}: tool=${tool}`;
      const idempotencyKey = `${sessionId}:turn-${i + 1}`;
      const version = await driver.send(sessionId, content, idempotencyKey);
      accepted.push({ sessionId, idempotencyKey, content, version });
      const deadline = Date.now() + options.turnDeadlineMs;
      for (;;) {
        const view = await driver.view(sessionId);
        for (const toolCallId of view.approvals) await driver.approve(sessionId, toolCallId);
        if (view.version > version && (view.status === 'idle' || view.status === 'failed')) break;
        if (Date.now() > deadline)
          throw new PermanentFailure(
            `turn ${i + 1} not finished after ${options.turnDeadlineMs} ms (status ${view.status})`,
          );
        await pause(options.pollMs * (0.75 + Math.random() / 2));
      }
      turnsSeen += 1;
    }
    return { sessionId, protocol: driver.protocol, turnsSeen };
  } catch (error) {
    return { sessionId, protocol: driver.protocol, turnsSeen, error: (error as Error).message.slice(0, 300) };
  }
};

/**
 * N sessions × T turns, half over REST and half over gRPC (seeded), each turn asking the model
 * for a seeded tool: the idempotent `ledger`, the non-idempotent `charge`, or `refund`, which needs
 * approval. Returns every message the gateway accepted and what each client saw.
 */
export const runWorkload = async (
  drivers: Readonly<{ rest: Driver; grpc: Driver }>,
  random: Random,
  options: WorkloadOptions,
  progress: (done: number) => void,
): Promise<{ accepted: Accepted[]; outcomes: ClientOutcome[]; followers: Follower[]; turns: number }> => {
  const accepted: Accepted[] = [];
  const followers: Follower[] = [];
  let done = 0;
  const plans = Array.from({ length: options.sessions }, (_, i) => ({
    sessionId: `${options.prefix}-${i}`,
    driver: random.next() < 0.5 ? drivers.rest : drivers.grpc,
    tools: Array.from({ length: options.turns }, () => random.pick(TOOLS)),
    thinks: Array.from({ length: options.turns }, () => random.int(...options.thinkMs)),
    startMs: Math.round((i * options.rampMs) / options.sessions),
    followed: i % options.followEvery === 0,
  }));
  const outcomes = await Promise.all(
    plans.map(async (plan) => {
      await pause(plan.startMs);
      const outcome = await driveSession(
        plan.driver,
        plan.sessionId,
        plan.tools,
        plan.thinks,
        options,
        accepted,
        plan.followed ? () => void followers.push(followSession(plan.driver, plan.sessionId)) : undefined,
      );
      done += 1;
      progress(done);
      return outcome;
    }),
  );
  return { accepted, outcomes, followers, turns: options.turns };
};
