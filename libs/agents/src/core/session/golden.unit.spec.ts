import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contextForCall, contextHashOf, offeredToolNames } from '../prompt/model-context.ts';
import { nextAction } from './next-action.ts';
import { foldSession } from './session.decider.ts';
import { SESSION_EVENT_TYPES, type SessionEvent } from './session.events.ts';

/** Recorded streams: added, never edited; they must keep folding to the same meaning. */
const golden = (name: string): SessionEvent[] =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`./__golden__/${name}.json`, import.meta.url)), 'utf8'),
  ) as SessionEvent[];

const checkDerivedIds = (events: readonly SessionEvent[]): void => {
  for (let i = 1; i < events.length; i++) {
    const state = foldSession(events.slice(0, i));
    const action = nextAction(state);
    const next = events[i]!;
    if (action.kind !== 'call_model' && action.kind !== 'select_speaker') continue;
    if (next.type !== 'ModelCallCompleted') continue;
    expect(next.data.callId).toBe(action.callId);
    const call = state.modelCalls[action.callId]!;
    const agent = state.spec!.agents.find((a) => a.name === call.agent);
    const tools = agent?.kind === 'assistant' ? offeredToolNames(agent, call.purpose) : [];
    expect(contextHashOf(contextForCall(state, call), tools)).toBe(next.data.contextHash);
  }
};

describe('golden streams', () => {
  it('round robin with the calculator folds to its recorded meaning', () => {
    const events = golden('round-robin-calculator');
    expect(events.every((e) => SESSION_EVENT_TYPES.includes(e.type))).toBe(true);
    const state = foldSession(events);
    expect(state.status).toBe('idle');
    expect(state.messages.map((m) => `${m.source}: ${m.content}`)).toEqual([
      'user: What is 12 * 3?',
      'support_agent: 36',
      'support_agent: Done: 36. TERMINATE',
    ]);
    expect(state.lastTurn).toEqual({
      turnId: 't1',
      outcome: 'completed',
      reason: "Text 'TERMINATE' mentioned",
    });
    checkDerivedIds(events);
  });

  it('swarm with a handoff, an approved tool and a handoff to the user folds to its recorded meaning', () => {
    const events = golden('swarm-handoff-approval');
    const state = foldSession(events);
    expect(state.status).toBe('awaiting_input');
    expect(state.awaitingInput).toEqual({ agent: 'refunder', reason: 'handoff' });
    expect(state.swarmSpeaker).toBe('refunder');
    expect(state.messages.map((m) => `${m.source}/${m.messageType}: ${m.content}`)).toEqual([
      'user/text: Refund 20 off my 100 order',
      'triage/handoff: Transferred to refunder, adopting the role of refunder immediately.',
      'refunder/tool_call_summary: 80',
      'refunder/handoff: Transferred to user, adopting the role of user immediately.',
    ]);
    checkDerivedIds(events);
  });

  it('a turn ended by its timeout (its aborted call after it) and an approval denied at its deadline fold to their recorded meaning', () => {
    const events = golden('turn-timeout-approval-deadline');
    const state = foldSession(events);
    expect(state.status).toBe('idle');
    expect(state.turnCount).toBe(2);
    expect(state.abortedCalls ?? []).toEqual([]);
    expect(state.lastTurn).toEqual({ turnId: 't2', outcome: 'completed', reason: 'Agent replied' });
    const timedOut = foldSession(events.slice(0, 6));
    expect(timedOut.lastTurn).toEqual({
      turnId: 't1',
      outcome: 'completed',
      reason: 'Timeout of 3 seconds reached',
    });
    expect(timedOut.abortedCalls).toEqual(['t1.s1.m1']);
    expect(foldSession(events.slice(0, 14)).pending.approvals).toEqual([
      {
        toolCallId: 't2.s1.m1.t0',
        agent: 'clerk',
        name: 'refund',
        arguments: '{"order":"o-1"}',
        expiresAt: '2026-01-01T00:00:10.000Z',
      },
    ]);
    expect(foldSession(events.slice(0, 16)).toolCalls['t2.s1.m1.t0']).toMatchObject({
      approval: 'denied',
      status: 'failed',
    });
    checkDerivedIds(events);
  });

  it('magentic_one with a malformed ledger, a stall and a re-plan folds to its recorded meaning', () => {
    const events = golden('magentic-one-replan');
    const state = foldSession(events);
    expect(state.status).toBe('idle');
    expect(state.lastTurn).toEqual({ turnId: 't1', outcome: 'completed', reason: 'the writer answered' });
    expect(
      state.messages
        .filter((m) => m.source !== 'MagenticOneOrchestrator')
        .map((m) => `${m.source}: ${m.content}`),
    ).toEqual([
      'user: How many people live in Paris? Answer in one sentence.',
      'researcher: I cannot find it.',
      'researcher: I cannot find it.',
      'researcher: About 2.1 million (2020).',
      'writer: Paris has about 2.1 million inhabitants.',
    ]);
    const decisions = events.flatMap((e) => (e.type === 'ProgressLedgerRecorded' ? [e.data.decision] : []));
    expect(decisions).toEqual(['continue', 'continue', 'replan', 'continue', 'continue', 'final_answer']);
    expect(events.filter((e) => e.type === 'TaskLedgerUpdated')).toHaveLength(2);
    checkDerivedIds(events);
  });
});
