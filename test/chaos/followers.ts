import type { Driver, Subscription } from './clients.ts';

export type Follower = Readonly<{
  sessionId: string;
  protocol: string;
  /** Versions in the order they arrived, over every reconnection. */
  seen: readonly number[];
  reconnects: () => number;
  stop: () => Promise<void>;
}>;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A client watching a session live (SSE or gRPC StreamEvents) that resumes after the last version it
 * saw whenever the stream breaks — as the gateway's SIGKILL or a Postgres restart breaks it.
 */
export const followSession = (driver: Driver, sessionId: string): Follower => {
  const seen: number[] = [];
  let reconnects = 0;
  let stopped = false;
  let current: Subscription | undefined;
  const loop = (async () => {
    while (!stopped) {
      current = driver.follow(sessionId, seen.at(-1) ?? 0, (version) => seen.push(version));
      await current.ended.catch(() => undefined);
      if (stopped) break;
      reconnects += 1;
      await pause(300);
    }
  })();
  return {
    sessionId,
    protocol: driver.protocol,
    seen,
    reconnects: () => reconnects,
    stop: async () => {
      stopped = true;
      current?.cancel();
      await loop;
    },
  };
};

/**
 * Waits (up to `timeoutMs`) until every follower saw its stream's last version, stops them, and
 * counts what a client would have got wrong: a version skipped (gap) or delivered again (duplicate).
 */
export const settleFollowers = async (
  followers: readonly Follower[],
  finalVersion: (sessionId: string) => number,
  timeoutMs: number,
) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && followers.some((f) => (f.seen.at(-1) ?? 0) < finalVersion(f.sessionId)))
    await pause(200);
  await Promise.all(followers.map((f) => f.stop()));
  const problems: string[] = [];
  let gaps = 0;
  let duplicates = 0;
  for (const f of followers) {
    let previous = 0;
    for (const version of f.seen) {
      if (version > previous + 1) problems.push(`${f.sessionId} (${f.protocol}): gap ${previous}→${version}`);
      if (version <= previous)
        problems.push(`${f.sessionId} (${f.protocol}): ${version} again after ${previous}`);
      gaps += version > previous + 1 ? 1 : 0;
      duplicates += version <= previous ? 1 : 0;
      previous = Math.max(previous, version);
    }
    const head = finalVersion(f.sessionId);
    if (previous < head) problems.push(`${f.sessionId} (${f.protocol}): stopped at ${previous} of ${head}`);
    gaps += previous < head ? 1 : 0;
  }
  return {
    followers: followers.length,
    reconnects: followers.reduce((sum, f) => sum + f.reconnects(), 0),
    gaps,
    duplicates,
    problems: problems.slice(0, 10),
  };
};
