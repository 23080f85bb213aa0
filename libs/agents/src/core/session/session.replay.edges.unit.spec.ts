import { describe, expect, it } from 'vitest';
import { approvalTeam, sessionHarness, spec, startedSession, T0 } from '../../testing/session-harness.ts';
import type { ErrorInfo, SessionEvent } from './session.events.ts';
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

/** A model call's failure whose error carries `details` (providers add members): TurnFailed copies the error. */
const failedWith = (details: unknown) => {
  const h = started();
  h.post('m1', 'Hi');
  const callId = (h.events.at(-1)!.data as { callId: string }).callId;
  const error = { type: 'server_error', message: 'overloaded', retryable: false, details } as ErrorInfo;
  h.send({ type: 'RecordModelCall', data: { callId, outcome: 'failed', error, latencyMs: 1 } });
  expect(h.events.slice(-2).map((e) => e.type)).toEqual(['ModelCallFailed', 'TurnFailed']);
  return h.events;
};

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

  it('an array member copied from the log as JSON (another array, the same items) is no difference', () => {
    const events = JSON.parse(JSON.stringify(failedWith(['a', 'b']))) as SessionEvent[];
    expect(replayDecisions(events)).toEqual({ matches: true, eventCount: events.length });
  });

  it.each([
    ['a shorter array', ['a', 'b'], ['a']],
    ['an array with another item', ['a', 'b'], ['a', 'x']],
    ['an array where an empty object was decided', {}, []],
    ['a number where an empty object was decided', {}, 0],
    ['an empty object where a number was decided', 0, {}],
    ['an object where null was decided (it does not throw)', null, {}],
  ])('%s recorded in a decision diverges there', (_, decided, recorded) => {
    const events = failedWith(decided);
    const last = events.length - 1;
    const failed = events[last] as Extract<SessionEvent, { type: 'TurnFailed' }>;
    const tampered = replaced(
      events,
      last,
      withData(failed, { error: { ...failed.data.error, details: recorded } }),
    );
    expect(replayDecisions(tampered)).toStrictEqual({
      matches: false,
      firstDivergentVersion: last + 1,
      recorded: tampered[last],
      decided: failed,
      eventCount: events.length,
    });
  });

  it('a member missing from a recorded input (an older event) is decided undefined: no difference', () => {
    // The tool result recorded without `latencyMs`: the decided ToolCallCompleted has it undefined.
    const h = started();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    h.toolResult('t1.s1.m1.t0', '3');
    const result = h.events.findIndex((e) => e.type === 'ToolCallCompleted');
    const { latencyMs: _latency, ...older } = h.events[result]!.data as { latencyMs: number };
    const events = replaced(h.events, result, { type: 'ToolCallCompleted', data: older } as SessionEvent);
    expect(replayDecisions(events)).toEqual({ matches: true, eventCount: events.length });
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

  it('an input decide rejects (a message to a closed session) is an error at its version', () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer('hello');
    h.send({ type: 'CloseSession', data: {} });
    expect(h.events.at(-1)?.type).toBe('SessionClosed');
    const late = {
      type: 'UserMessageReceived',
      data: { messageId: 'm2', content: 'late', source: 'user', at: T0 },
    };
    const history = [...h.events, late as SessionEvent];
    expect(replayDecisions(history)).toStrictEqual({
      matches: false,
      firstDivergentVersion: history.length,
      recorded: late,
      error: 'session s1 is closed',
      eventCount: history.length,
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

  it('an `at` that is no string (a number of ms) is no clock: the input is decided at the time before it', () => {
    const h = started();
    h.post('m1', 'Hi');
    const message = h.events.findIndex((e) => e.type === 'UserMessageReceived');
    const later = Date.parse(T0) + 60_000;
    const tampered = replaced(h.events, message, withData(h.events[message]!, { at: later }));
    expect(replayDecisions(tampered)).toMatchObject({
      matches: false,
      firstDivergentVersion: message + 1,
      decided: { type: 'UserMessageReceived', data: { at: T0 } },
    });
  });

  it('an `at` that is no date (a corrupt log) is an error at its version, not a decision at another time', () => {
    // A tool's own approval request (no deadline: decided without `at`) recorded with a corrupt `at`.
    const h = started();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    h.send({ type: 'RequestApproval', data: { toolCallId: 't1.s1.m1.t0' } });
    const requested = h.events.length - 1;
    expect(h.events[requested]).toMatchObject({ type: 'ToolApprovalRequested' });
    const tampered = replaced(h.events, requested, withData(h.events[requested]!, { at: 'not a date' }));
    expect(replayDecisions(tampered)).toStrictEqual({
      matches: false,
      firstDivergentVersion: requested + 1,
      recorded: tampered[requested],
      error: 'Invalid time value',
      eventCount: h.events.length,
    });
  });
});

describe('decision replay rebuilds the optional members of an input', () => {
  it("replays a start's metadata, the model's name, an approver and a close's reason", () => {
    const team = approvalTeam();
    const h = sessionHarness(team);
    h.send({
      type: 'StartSession',
      data: { sessionId: 's1', tenantId: 'tenant', teamId: 'team', spec: team, metadata: { env: 'prod' } },
    });
    h.post('m1', 'Hi');
    const callId = (h.events.at(-1)!.data as { callId: string }).callId;
    h.send({
      type: 'RecordModelCall',
      data: {
        callId,
        outcome: 'completed',
        content: null,
        toolCalls: [{ id: 'm0', name: 'refund', arguments: '{}' }],
        usage: { promptTokens: 1, completionTokens: 1 },
        finishReason: 'tool_calls',
        latencyMs: 1,
        model: 'gpt-x',
      },
    });
    h.send({ type: 'DecideApproval', data: { toolCallId: `${callId}.t0`, approve: true, actor: 'alice' } });
    h.send({ type: 'CloseSession', data: { reason: 'done' } });
    expect(h.events[0]).toMatchObject({ data: { metadata: { env: 'prod' } } });
    expect(h.events.find((e) => e.type === 'ModelCallCompleted')?.data).toMatchObject({ model: 'gpt-x' });
    expect(h.events).toContainEqual({
      type: 'ToolApprovalGranted',
      data: { toolCallId: `${callId}.t0`, actor: 'alice' },
    });
    expect(h.events.slice(-2)).toMatchObject([
      { type: 'TurnCancelled', data: { reason: 'session closed' } },
      { type: 'SessionClosed', data: { reason: 'done' } },
    ]);
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });

  it("replays an idle session's close with its reason", () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer('hello');
    const idle = h.events.length;
    h.send({ type: 'CloseSession', data: { reason: 'done' } });
    expect(h.events.slice(idle)).toEqual([{ type: 'SessionClosed', data: { reason: 'done', at: T0 } }]);
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });

  it("replays a tool's failure as a failed result (not as an approval request)", () => {
    const h = started();
    h.post('m1', 'Hi');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    h.send({
      type: 'RecordToolResult',
      data: { toolCallId: 't1.s1.m1.t0', outcome: 'failed', reason: 'error', message: 'boom', latencyMs: 1 },
    });
    expect(h.events).toContainEqual(expect.objectContaining({ type: 'ToolCallFailed' }));
    expect(h.events.map((e) => e.type)).not.toContain('ToolApprovalRequested');
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });

  it('a start diverging at version 1 reports the start decided, with no member the log lacks', () => {
    // The harness's start has no metadata: the decided start has no `metadata` key, not even undefined.
    const h = started();
    const tampered = replaced(h.events, 0, withData(h.events[0]!, { specHash: 'sha256:00' }));
    expect(replayDecisions(tampered)).toStrictEqual({
      matches: false,
      firstDivergentVersion: 1,
      recorded: tampered[0],
      decided: h.events[0],
      eventCount: 1,
    });
  });
});

describe('which candidate a cancelled turn replays as', () => {
  it('a cancel followed by a message replays as a cancel, then the message (not an interrupt)', () => {
    // The message candidate (onBusy: enqueue) decides the message queued, not a TurnCancelled.
    const h = started();
    h.post('m1', 'first');
    h.send({ type: 'CancelTurn', data: { reason: 'stop' } });
    const cancelled = h.events.length - 1;
    h.post('m2', 'again');
    expect(h.events.slice(cancelled, cancelled + 3).map((e) => e.type)).toEqual([
      'TurnCancelled',
      'UserMessageReceived',
      'TurnStarted',
    ]);
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });

  it('a cancel followed by a close at the same time replays as a cancel, then the close', () => {
    // The close candidate decides a SessionClosed equal to the log's, but a TurnCancelled with another reason.
    const h = started();
    h.post('m1', 'first');
    h.send({ type: 'CancelTurn', data: { reason: 'stop' } });
    h.send({ type: 'CloseSession', data: {} });
    expect(h.events.slice(-2)).toEqual([
      { type: 'TurnCancelled', data: { turnId: 't1', reason: 'stop', at: T0 } },
      { type: 'SessionClosed', data: { at: T0 } },
    ]);
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });

  it('replays a close of a running turn with a message queued, the turn having gone on since', () => {
    // The event before the TurnCancelled is no message: only the one after it names the close.
    const h = started();
    h.post('m1', 'first');
    h.post('m2', 'queued');
    h.answer(null, [{ name: 'calculator', arguments: '{}' }]);
    h.send({ type: 'CloseSession', data: {} });
    expect(h.events.slice(-3).map((e) => e.type)).toEqual([
      'ToolCallRequested',
      'TurnCancelled',
      'SessionClosed',
    ]);
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });

  it('replays an interrupting message (onBusy: interrupt): the cancel and the message are one input', () => {
    const h = started(spec({ type: 'single', agents: [{ name: 'a' }], onBusy: 'interrupt' }));
    h.post('m1', 'first');
    h.post('m2', 'instead');
    expect(h.events.map((e) => e.type)).toContain('TurnCancelled');
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });

  it('an interrupt that no candidate reproduces reports the message’s decision', () => {
    // The TurnCancelled of an interrupt, tampered (another turn, another reason): the message
    // (first candidate) decides the real cancel; the cancel (second) would copy the reason.
    const h = started(spec({ type: 'single', agents: [{ name: 'a' }], onBusy: 'interrupt' }));
    h.post('m1', 'first');
    h.post('m2', 'instead');
    const cancelled = h.events.findIndex((e) => e.type === 'TurnCancelled');
    const tampered = replaced(
      h.events,
      cancelled,
      withData(h.events[cancelled]!, { turnId: 't9', reason: 'stop' }),
    );
    expect(replayDecisions(tampered)).toStrictEqual({
      matches: false,
      firstDivergentVersion: cancelled + 1,
      recorded: tampered[cancelled],
      decided: h.events[cancelled],
      eventCount: h.events.length,
    });
  });

  it('a cancel followed by an aborted call’s record that diverges reports the cancel’s decision', () => {
    // Only a message or a close after a TurnCancelled is a candidate: the aborted call's record is not.
    const h = started();
    h.post('m1', 'Hi');
    const callId = (h.events.at(-1)!.data as { callId: string }).callId;
    h.send({ type: 'CancelTurn', data: {} });
    const cancelled = h.events.length - 1;
    h.send({
      type: 'RecordModelCall',
      data: {
        callId,
        outcome: 'failed',
        error: { type: 'aborted', message: 'cancelled', retryable: false },
        latencyMs: 1,
      },
    });
    expect(h.events.slice(cancelled).map((e) => e.type)).toEqual(['TurnCancelled', 'ModelCallFailed']);
    const tampered = replaced(h.events, cancelled, withData(h.events[cancelled]!, { turnId: 't9' }));
    expect(replayDecisions(tampered)).toStrictEqual({
      matches: false,
      firstDivergentVersion: cancelled + 1,
      recorded: tampered[cancelled],
      decided: h.events[cancelled],
      eventCount: h.events.length,
    });
  });

  it('a queued message that diverges reports its own decision, not the next message’s', () => {
    // Only a TurnCancelled has candidates: a message followed by a message is decided alone.
    const h = started();
    h.post('m1', 'first');
    h.post('m2', 'queued');
    h.post('m3', 'queued too');
    const queued = h.events.length - 2;
    expect(h.events.slice(queued).map((e) => e.type)).toEqual(['UserMessageReceived', 'UserMessageReceived']);
    const tampered = replaced(h.events, queued, withData(h.events[queued]!, { source: 'bob' }));
    expect(replayDecisions(tampered)).toStrictEqual({
      matches: false,
      firstDivergentVersion: queued + 1,
      recorded: tampered[queued],
      decided: h.events[queued],
      eventCount: h.events.length,
    });
  });

  it('a message after a cancel that decides nothing is no candidate: the cancel replays, the message diverges', () => {
    // The message is m1 recorded again: as a candidate it decides nothing, which matches no log.
    const h = started();
    h.post('m1', 'first');
    h.send({ type: 'CancelTurn', data: {} });
    const message = h.events.findIndex((e) => e.type === 'UserMessageReceived');
    const doubled = [...h.events, h.events[message]!];
    expect(replayDecisions(doubled)).toStrictEqual({
      matches: false,
      firstDivergentVersion: doubled.length,
      recorded: h.events[message],
      eventCount: doubled.length,
    });
  });
});
