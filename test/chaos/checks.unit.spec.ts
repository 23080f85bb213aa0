import { describe, expect, it } from 'vitest';
import { checkLog, missingAccepted, paidTwice } from './checks.ts';
import { faultSchedule } from './faults.ts';
import { settleFollowers, type Follower } from './followers.ts';
import { seededRandom } from './random.ts';

const STREAM = 'session-chaos/s-1';
let ids = 0;
const event = (version: number, type: string, data: Record<string, unknown> = {}) => ({
  stream_id: STREAM,
  version,
  event_id: `e-${(ids += 1)}`,
  type,
  data,
  metadata: {},
});
const turn = (from: number, turnId: string, content: string) => [
  event(from, 'UserMessageReceived', { content }),
  event(from + 1, 'TurnStarted', { turnId }),
  event(from + 2, 'ModelCallCompleted', { turnId, callId: `${turnId}.m1` }),
  event(from + 3, 'TurnCompleted', { turnId }),
];
const clean = () => [event(1, 'SessionStarted'), ...turn(2, 't1', 'one'), ...turn(6, 't2', 'two')];

// The chaos checks must see what they are there to see, or a broken product passes the run.
describe('chaos checks', () => {
  it('find nothing wrong in a clean log, and each kind of damage in a broken one', () => {
    expect(checkLog(clean())).toMatchObject({ gaps: [], duplicates: [], interleaved: [] });
    const gap = clean().filter((e) => e.version !== 4);
    expect(checkLog(gap).gaps).toEqual([STREAM]);
    const twice = [...clean(), event(10, 'ModelCallCompleted', { turnId: 't2', callId: 't2.m1' })];
    expect(checkLog(twice).duplicates).toEqual([`${STREAM}@10: model outcome t2.m1`]);
    const mixed = [...clean().slice(0, 4), event(5, 'TurnStarted', { turnId: 't2' })];
    expect(checkLog(mixed).interleaved).toEqual([`${STREAM}@5: t2 started inside t1`]);
  });

  it('count an accepted message missing unless it is stored where the gateway said', () => {
    const { streams } = checkLog(clean());
    const accepted = { sessionId: 's-1', idempotencyKey: 'k', content: 'two', version: 6 };
    expect(missingAccepted(streams, [accepted])).toEqual([]);
    expect(missingAccepted(streams, [{ ...accepted, version: 2 }])).toEqual(['s-1: k at v2']);
  });

  it('name the crash between a model answer and its record as the cause of paying twice', () => {
    const paid = new Map([
      [
        'chaos/s-1:t1.m1',
        [
          { at: 1_000, stalled: false, retriedAnswer: false, replica: 'replica-a' },
          { at: 5_000, stalled: false, retriedAnswer: false, replica: 'replica-a' },
        ],
      ],
    ]);
    const kill = {
      kind: 'kill-orchestrator',
      target: 'replica-b',
      atMs: 0,
      startedAt: 2_000,
      endedAt: 9_000,
      outcome: 'exited SIGKILL',
    };
    expect(paidTwice(paid, clean(), [kill])).toEqual([
      {
        key: 'chaos/s-1:t1.m1',
        answers: 2,
        cause: 'answered, then kill-orchestrator replica-b before the answer was recorded',
      },
    ]);
    expect(paidTwice(paid, clean(), [])[0]?.cause).toBe('unexplained');
  });

  it('name the model client’s own retry of an answered attempt before a fault in between', () => {
    const paid = new Map([
      [
        'chaos/s-1:t1.m1',
        [
          { at: 1_000, stalled: false, retriedAnswer: false, replica: 'replica-a' },
          { at: 5_000, stalled: false, retriedAnswer: true, replica: 'replica-a' },
        ],
      ],
    ]);
    const outage = {
      kind: 'stop-broker',
      target: 'broker',
      atMs: 0,
      startedAt: 2_000,
      endedAt: 3_000,
      outcome: 'stopped',
    };
    const cause =
      'the model client retried an answered attempt itself: the answer did not reach it whole or in time';
    expect(paidTwice(paid, clean(), [])[0]?.cause).toBe(cause);
    expect(paidTwice(paid, clean(), [outage])[0]?.cause).toBe(cause);
  });

  it('name two replicas asking with no fault between as a lease taken over', () => {
    const answer = (at: number, replica: string) => ({ at, stalled: false, retriedAnswer: false, replica });
    const paid = new Map([['chaos/s-1:t1.m1', [answer(1_000, 'replica-a'), answer(5_000, 'replica-b')]]]);
    expect(paidTwice(paid, clean(), [])[0]?.cause).toBe(
      'asked by two replicas with no fault between: a lease taken over from a replica still calling',
    );
  });

  it('count versions a live client skipped, got twice, or never reached', async () => {
    const follower = (seen: number[]): Follower => ({
      sessionId: 's-1',
      protocol: 'rest',
      seen,
      reconnects: () => 1,
      stop: async () => undefined,
    });
    expect(await settleFollowers([follower([1, 2, 3])], () => 3, 0)).toMatchObject({
      gaps: 0,
      duplicates: 0,
    });
    expect(await settleFollowers([follower([1, 3, 3])], () => 3, 0)).toMatchObject({
      gaps: 1,
      duplicates: 1,
    });
    expect(await settleFollowers([follower([1, 2])], () => 3, 0)).toMatchObject({ gaps: 1, duplicates: 0 });
  });
});

describe('chaos fault schedule', () => {
  const options = {
    warmupMs: 5_000,
    windowMs: 70_000,
    killEveryMs: [7_000, 12_000],
    stallMs: 30_000,
  } as const;

  it('is the same for the same seed, and has every one-off fault once inside the window', () => {
    const schedule = faultSchedule(seededRandom(42), options);
    expect(faultSchedule(seededRandom(42), options)).toEqual(schedule);
    expect(faultSchedule(seededRandom(43), options)).not.toEqual(schedule);
    const oneOff = schedule.filter((f) => f.kind !== 'kill-orchestrator').map((f) => f.kind);
    expect(oneOff.sort()).toEqual([
      'kill-gateway',
      'kill-postgres',
      'model-429',
      'model-500',
      'model-stall',
      'stop-broker',
      'term-orchestrator',
    ]);
    expect(schedule.every((f) => f.atMs >= options.warmupMs && f.atMs < options.windowMs)).toBe(true);
    const broker = schedule.find((f) => f.kind === 'stop-broker')!;
    expect(broker.forMs).toBeGreaterThanOrEqual(10_000);
    expect(broker.forMs).toBeLessThanOrEqual(20_000);
    expect(schedule.filter((f) => f.kind === 'kill-orchestrator').length).toBeGreaterThanOrEqual(5);
  });
});
