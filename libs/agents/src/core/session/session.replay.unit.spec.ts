import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from './session.events.ts';
import { replayDecisions } from './session.replay.ts';
import { sessionHarness, spec } from '../../testing/session-harness.ts';

const golden = (name: string): SessionEvent[] =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`./__golden__/${name}.json`, import.meta.url)), 'utf8'),
  ) as SessionEvent[];

const GOLDEN = [
  'round-robin-calculator',
  'swarm-handoff-approval',
  'turn-timeout-approval-deadline',
  'magentic-one-replan',
];

describe('decision replay', () => {
  it.each(GOLDEN)('today’s decide makes every decision recorded in the golden stream %s', (name) => {
    const events = golden(name);
    expect(replayDecisions(events)).toEqual({ matches: true, eventCount: events.length });
  });

  it('a cancelled turn whose in-flight call was recorded aborted replays', () => {
    const h = sessionHarness(spec({ type: 'single', agents: [{ name: 'a' }] }));
    h.start();
    h.post('m1', 'Hi');
    h.send({ type: 'CancelTurn', data: {} });
    h.send({
      type: 'RecordModelCall',
      data: {
        callId: 't1.s1.m1',
        outcome: 'failed',
        error: { type: 'aborted', message: 'the turn was cancelled during the call', retryable: false },
        latencyMs: 4,
      },
    });
    h.post('m2', 'Again');
    expect(h.events.map((e) => e.type)).toContain('ModelCallFailed');
    expect(replayDecisions(h.events)).toEqual({ matches: true, eventCount: h.events.length });
  });

  it('a changed speaker selection diverges at its version, naming what was recorded and decided', () => {
    const events = golden('swarm-handoff-approval');
    const index = events.findIndex((e, i) => i > 4 && e.type === 'SpeakerSelected');
    const original = events[index]!;
    if (original.type !== 'SpeakerSelected') throw new Error('no speaker selection');
    const tampered = { ...original, data: { ...original.data, agent: 'triage' } };
    const result = replayDecisions(events.map((e, i) => (i === index ? tampered : e)));
    expect(result).toMatchObject({
      matches: false,
      firstDivergentVersion: index + 1,
      recorded: tampered,
      decided: original,
    });
  });

  it('a changed context hash diverges at the model call request', () => {
    const events = golden('round-robin-calculator');
    const index = events.findIndex((e) => e.type === 'ModelCallRequested');
    const tampered = events.map((e, i) =>
      i === index ? ({ ...e, data: { ...e.data, contextHash: 'sha256:00' } } as SessionEvent) : e,
    );
    expect(replayDecisions(tampered)).toMatchObject({ matches: false, firstDivergentVersion: index + 1 });
  });

  it('a changed termination reason diverges at the turn’s end', () => {
    const events = golden('round-robin-calculator');
    const last = events.length - 1;
    const tampered = events.map((e, i) =>
      i === last
        ? ({ ...e, data: { ...e.data, reason: 'Maximum number of messages 9 reached' } } as SessionEvent)
        : e,
    );
    expect(replayDecisions(tampered)).toMatchObject({ matches: false, firstDivergentVersion: last + 1 });
  });

  it('a decision the log lacks (an event deleted mid-batch) diverges at that version', () => {
    const events = golden('swarm-handoff-approval');
    const index = events.findIndex((e) => e.type === 'HandoffOccurred');
    const result = replayDecisions(events.filter((_, i) => i !== index));
    expect(result).toMatchObject({ matches: false, firstDivergentVersion: index + 1 });
  });

  it('replays with the spec recorded in SessionStarted: a spec edited in the log diverges at version 1', () => {
    const events = golden('round-robin-calculator');
    const started = events[0]!;
    if (started.type !== 'SessionStarted') throw new Error('no start');
    const edited = { ...started, data: { ...started.data, spec: { ...started.data.spec, name: 'renamed' } } };
    expect(replayDecisions([edited, ...events.slice(1)])).toMatchObject({
      matches: false,
      firstDivergentVersion: 1,
    });
  });
});
