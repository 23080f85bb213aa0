import { describe, expect, it } from 'vitest';
import { createEndpointLimits } from './endpoint-limits.ts';
import { createSemaphore } from './semaphore.ts';
import { createSessionScheduler } from './session-scheduler.ts';
import { createTokenBucket, type Clock } from '@agentledger/sessions';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('semaphore', () => {
  it('never lets more than its permits run, and serves waiters in order', async () => {
    const semaphore = createSemaphore(2);
    let inFlight = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        semaphore.run(async () => {
          inFlight += 1;
          peak = Math.max(peak, inFlight);
          order.push(i);
          await tick();
          inFlight -= 1;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(semaphore.inUse()).toBe(0);
    expect(semaphore.available()).toBe(2);
    const held = await semaphore.acquire();
    await semaphore.acquire();
    expect(semaphore.available()).toBe(0); // the next acquire waits: a flow-control wait
    held();
    expect(semaphore.available()).toBe(1);
  });

  it('drops an aborted waiter without leaking its permit', async () => {
    const semaphore = createSemaphore(1);
    const release = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    release();
    release(); // a second release of the same permit is ignored
    expect(semaphore.inUse()).toBe(0);
    const again = await semaphore.acquire();
    expect(semaphore.inUse()).toBe(1);
    again();
  });
});

describe('token bucket', () => {
  const fakeClock = () => {
    let now = 0;
    const clock: Clock = { now: () => now, sleep: async (ms) => void (now += ms) };
    return { clock, elapsed: () => now };
  };

  it('spends its capacity at once, then waits at the refill rate', async () => {
    const { clock, elapsed } = fakeClock();
    const bucket = createTokenBucket(60, clock); // one token a second
    for (let i = 0; i < 60; i += 1) await bucket.take(1);
    expect(elapsed()).toBe(0);
    await bucket.take(1);
    expect(elapsed()).toBe(1000);
    await bucket.take(5);
    expect(elapsed()).toBe(6000);
  });

  it('lets a request larger than the bucket through after a full refill', async () => {
    const { clock, elapsed } = fakeClock();
    const bucket = createTokenBucket(10, clock);
    await bucket.take(10);
    await bucket.take(50);
    expect(elapsed()).toBe(60_000);
  });
});

describe('endpoint limits', () => {
  it('waits per endpoint for requests, and for token debt to be paid back', async () => {
    let now = 0;
    const clock: Clock = { now: () => now, sleep: async (ms) => void (now += ms) };
    const limits = createEndpointLimits({ requestsPerMinute: 2, tokensPerMinute: 600 }, clock);
    // `before` says whether the call waited: what the flow-control wait metric counts.
    expect(await limits.before('a')).toBe(false);
    expect(await limits.before('a')).toBe(false);
    expect(await limits.before('b')).toBe(false);
    expect(now).toBe(0);
    expect(await limits.before('a')).toBe(true);
    expect(now).toBe(30_000);
    limits.after('b', 1_200); // a full bucket of 600, so 600 tokens of debt at 10 tokens a second
    expect(await limits.before('b')).toBe(true);
    expect(now).toBe(30_000 + 60_000);
    expect(await limits.before('a')).toBe(false); // a's request bucket refilled meanwhile
    expect(now).toBe(90_000);
  });
});

describe('session scheduler', () => {
  it('runs one session at a time per id and reruns once for events that arrived mid-run', async () => {
    const gates = [deferred(), deferred()];
    const runs: string[] = [];
    const scheduler = createSessionScheduler({
      maxConcurrent: 4,
      highWater: 100,
      run: async (id) => {
        runs.push(id);
        await gates[runs.length - 1]?.promise;
      },
    });
    scheduler.schedule('a');
    scheduler.schedule('a');
    scheduler.schedule('a');
    expect(scheduler.running()).toBe(1);
    gates[0]!.resolve();
    await tick();
    expect(runs).toEqual(['a', 'a']);
    gates[1]!.resolve();
    await tick();
    expect(scheduler.running()).toBe(0);
    expect(runs).toEqual(['a', 'a']);
  });

  it('bounds concurrent sessions and reports pressure to pause and resume the consumer', async () => {
    const gate = deferred();
    const pressure: boolean[] = [];
    let inFlight = 0;
    let peak = 0;
    const done: string[] = [];
    const scheduler = createSessionScheduler({
      maxConcurrent: 3,
      highWater: 4,
      onPressure: (saturated) => pressure.push(saturated),
      run: async (id) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await gate.promise;
        inFlight -= 1;
        done.push(id);
      },
    });
    for (let i = 0; i < 10; i += 1) scheduler.schedule(`s${i}`);
    expect(scheduler.running()).toBe(3);
    expect(scheduler.queued()).toBe(7);
    expect(pressure).toEqual([true]);
    gate.resolve();
    while (done.length < 10) await tick();
    expect(peak).toBe(3);
    expect(pressure).toEqual([true, false]);
  });

  it('reports a drain that misses its deadline and starts nothing afterwards', async () => {
    const started: string[] = [];
    const never = new Promise<void>(() => undefined);
    const scheduler = createSessionScheduler({
      maxConcurrent: 1,
      highWater: 10,
      run: (id) => {
        started.push(id);
        return never;
      },
    });
    scheduler.schedule('a');
    scheduler.schedule('b');
    expect(await scheduler.drain(20)).toBe(false);
    scheduler.schedule('c');
    expect(started).toEqual(['a']);
  });
});
