import { describe, expect, it } from 'vitest';
import { spec, startedSession } from '../../testing/session-harness.ts';
import type { SessionEvent } from './session.events.ts';
import { replayDecisions, type RecordedSessionEvent } from './session.replay.ts';

/**
 * Decision replay at its edges (mutation testing, docs/mutation.md): which recorded input each
 * command is rebuilt from, and what counts as the same decision.
 */
const started = startedSession;
/** A short session: one turn answered with text; its last event is the turn's completion. */
const answered = () => {
  const h = started();
  h.post('m1', 'Hi');
  h.answer('hello');
  expect(h.events.at(-1)?.type).toBe('TurnCompleted');
  return h.events;
};
/** The event with some of its data replaced (a tampered or hand-written log). */
const withData = (event: SessionEvent, data: object): SessionEvent =>
  ({ type: event.type, data: { ...event.data, ...data } }) as unknown as SessionEvent;
const replaced = (events: readonly SessionEvent[], index: number, event: SessionEvent) =>
  events.map((e, i) => (i === index ? event : e));

describe('decision replay rebuilds each input from the log', () => {
  it("replays a person's denial with its reason, a cancel's reason and a stall's reason", () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'refund', arguments: '{}' }]);
    h.send({ type: 'DecideApproval', data: { toolCallId: 't1.s1.m1.t0', approve: false, reason: 'no' } });
    h.post('m2', 'Again');
    h.send({ type: 'MarkStalled', data: { reason: 'stuck' } });
    h.send({ type: 'CancelTurn', data: { reason: 'stop' } });
    expect(h.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['ToolApprovalDenied', 'SessionStalled', 'TurnCancelled']),
    );
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });

  it('replays a close of a running turn with a message queued (a cancel alone would start it)', () => {
    const h = started();
    h.post('m1', 'first');
    h.post('m2', 'queued');
    h.send({ type: 'CloseSession', data: {} });
    expect(h.events.slice(-2).map((e) => e.type)).toEqual(['TurnCancelled', 'SessionClosed']);
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });
});

describe('what replay counts as the same decision', () => {
  it('a recorded decision missing a field diverges there', () => {
    const events = answered();
    const last = events.length - 1;
    const { reason: _reason, ...without } = events[last]!.data as { reason: string };
    const tampered = replaced(events, last, { type: 'TurnCompleted', data: without } as SessionEvent);
    expect(replayDecisions(tampered)).toMatchObject({ matches: false, firstDivergentVersion: last + 1 });
  });

  it('a decision recorded under another type with the same data diverges there', () => {
    const events = answered();
    const last = events.length - 1;
    const retyped = { type: 'TurnCancelled', data: events[last]!.data } as SessionEvent;
    expect(replayDecisions(replaced(events, last, retyped))).toMatchObject({
      matches: false,
      firstDivergentVersion: last + 1,
    });
  });

  it('an undefined member of a recorded event (an in-memory log) is no difference', () => {
    const events = answered();
    const last = events.length - 1;
    const padded = withData(events[last]!, { extra: undefined });
    expect(replayDecisions(replaced(events, last, padded))).toEqual({
      matches: true,
      eventCount: events.length,
    });
  });

  it('a null recorded where an object was decided diverges (it does not throw)', () => {
    const h = started();
    h.post('m1', 'Hi');
    h.failModel('overloaded', false);
    const last = h.events.length - 1;
    const failed = h.events[last]!;
    expect(failed.type).toBe('TurnFailed');
    const tampered = replaced(h.events, last, withData(failed, { error: null }));
    expect(replayDecisions(tampered)).toMatchObject({ matches: false, firstDivergentVersion: last + 1 });
  });
});

describe('how replay reports a divergence', () => {
  it('an input that decides nothing (a message recorded twice) diverges there, deciding nothing', () => {
    const events = answered();
    const message = events.findIndex((e) => e.type === 'UserMessageReceived');
    const doubled = [...events, events[message]!];
    expect(replayDecisions(doubled)).toStrictEqual({
      matches: false,
      firstDivergentVersion: events.length + 1,
      recorded: events[message],
      eventCount: events.length + 1,
    });
  });

  it('a log that ends before the decision names no recorded event', () => {
    const events = answered().slice(0, -1);
    const result = replayDecisions(events);
    expect(result).toMatchObject({ matches: false, firstDivergentVersion: events.length + 1 });
    expect(result).not.toHaveProperty('recorded');
  });

  it('a cancelled turn that no candidate reproduces reports the first candidate’s decision', () => {
    // A close of a running turn with a message queued, its TurnCancelled's reason tampered: the
    // close (first candidate) decides another reason; the cancel (second) copies the tampered one
    // but then starts the queued message instead of closing.
    const h = started();
    h.post('m1', 'first');
    h.post('m2', 'queued');
    h.send({ type: 'CloseSession', data: {} });
    const cancelled = h.events.length - 2;
    const tampered = replaced(h.events, cancelled, withData(h.events[cancelled]!, { reason: 'stop' }));
    expect(replayDecisions(tampered)).toMatchObject({
      matches: false,
      firstDivergentVersion: cancelled + 1,
      recorded: tampered[cancelled],
      decided: h.events[cancelled],
    });
  });
});

describe('the clock replay decides at', () => {
  /** A round robin whose turn times out after 60 s, and the history of its first answer. */
  const firstAnswer = () => {
    const h = started(
      spec({
        type: 'round_robin',
        agents: [{ name: 'a' }, { name: 'b' }],
        termination: { kind: 'timeout', seconds: 60 },
      }),
    );
    h.post('m1', 'Hi');
    h.answer('one');
    return h.events;
  };
  /** The history with the store's time of the model's answer (an event without `at`). */
  const storedAt = (events: readonly SessionEvent[], recordedAt: string): RecordedSessionEvent[] =>
    events.map((e) => (e.type === 'ModelCallCompleted' ? { ...e, recordedAt } : e));

  it('an event without `at` is decided at its store time: past the timeout, the turn ends there', () => {
    const events = firstAnswer();
    const turn = events.find((e) => e.type === 'TurnStarted')!.data as { at: string };
    const at = (seconds: number) => new Date(Date.parse(turn.at) + seconds * 1000).toISOString();
    expect(replayDecisions(storedAt(events, at(1)))).toEqual({ matches: true, eventCount: events.length });
    // The log says the turn went on to `b`; at the answer's store time the turn had timed out.
    const selected = events.findLastIndex((e) => e.type === 'SpeakerSelected');
    expect(replayDecisions(storedAt(events, at(61)))).toMatchObject({
      matches: false,
      firstDivergentVersion: selected + 1,
      decided: { type: 'TurnCompleted', data: { at: at(61) } },
    });
  });
});
