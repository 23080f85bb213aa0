import { createInMemoryEventStore } from '@agentledger/events';
import { canonicalJson } from '@agentledger/events/canonical';
import { describe, expect, it } from 'vitest';
import {
  createScriptedModelClient,
  decide,
  evolve,
  initialSession,
  MAGENTIC_ORCHESTRATOR,
  parseTeamSpec,
  type ModelClient,
  type ScriptStep,
  type SessionCommand,
  type SessionEvent,
} from '@agentledger/agents';
import { spec } from '@agentledger/agents/testing';
import { foldEnvelopes } from '../engine/session-engine.ts';
import { createTeamSession, runTeam } from './team-session.ts';

const NOW = new Date('2026-01-01T00:00:00.000Z');
const fixedClock = () => NOW;
const ORCH = MAGENTIC_ORCHESTRATOR;

const team = spec({
  type: 'magentic_one',
  agents: [
    { name: 'researcher', description: 'Finds figures' },
    { name: 'writer', description: 'Writes the answer' },
  ],
  maxTurns: 10,
  magenticOne: { maxStalls: 2 },
});

const ledger = (o: {
  done?: boolean;
  loop?: boolean;
  progress?: boolean;
  next?: string;
  say?: string;
  why?: string;
}): string =>
  JSON.stringify({
    is_request_satisfied: { reason: o.why ?? 'not yet', answer: o.done ?? false },
    is_in_loop: { reason: 'r', answer: o.loop ?? false },
    is_progress_being_made: { reason: 'r', answer: o.progress ?? true },
    next_speaker: { reason: 'r', answer: o.next ?? 'researcher' },
    instruction_or_question: { reason: 'r', answer: o.say ?? '' },
  });

/** Two steps (find a figure, write a sentence), a stall that forces a re-plan, one malformed ledger. */
const script: ScriptStep[] = [
  { agent: ORCH, content: 'FACTS: the population of Paris is to be looked up' },
  { agent: ORCH, content: 'PLAN: researcher finds it, writer writes it' },
  { agent: ORCH, content: 'Sure! Here is the ledger: {"is_request_satisfied": ' },
  { agent: ORCH, content: '```json\n' + ledger({ say: 'Find the population of Paris' }) + '\n```' },
  { agent: 'researcher', content: 'I cannot find it.' },
  { agent: ORCH, content: ledger({ progress: false, say: 'Try again' }) },
  { agent: 'researcher', content: 'I cannot find it.' },
  { agent: ORCH, content: ledger({ loop: true, say: 'Try again' }) },
  { agent: ORCH, content: 'FACTS v2: estimates exist' },
  { agent: ORCH, content: 'PLAN v2: researcher gives the 2020 estimate, writer writes it' },
  { agent: ORCH, content: ledger({ say: 'Give the 2020 estimate' }) },
  { agent: 'researcher', content: 'About 2.1 million (2020).' },
  { agent: ORCH, content: ledger({ next: 'writer', say: 'Write one sentence' }) },
  { agent: 'writer', content: 'Paris has about 2.1 million inhabitants.' },
  { agent: ORCH, content: ledger({ done: true, next: '', why: 'the writer answered' }) },
  { agent: ORCH, content: 'Paris has about 2.1 million inhabitants (2020 estimate).' },
];

const dataOf = <T extends SessionEvent['type']>(
  events: readonly { type: string; data: unknown }[],
  type: T,
) => events.filter((e) => e.type === type).map((e) => e.data as Extract<SessionEvent, { type: T }>['data']);

/**
 * Decision replay: every recorded outcome (user message, model result) is sent back through
 * `decide` on the state folded up to it, and must produce exactly the events recorded after it.
 */
const replayDecisions = (events: readonly SessionEvent[]): void => {
  let state = initialSession();
  let i = 0;
  while (i < events.length) {
    const e = events[i]!;
    const metadata = { commandId: `r${i}`, correlationId: 'replay', now: NOW };
    const command: SessionCommand | null =
      e.type === 'UserMessageReceived'
        ? {
            type: 'PostUserMessage',
            data: { messageId: e.data.messageId, content: e.data.content },
            metadata,
          }
        : e.type === 'ModelCallCompleted'
          ? { type: 'RecordModelCall', data: { ...e.data, outcome: 'completed' }, metadata }
          : null;
    const decided = command ? decide(command, state) : [e];
    expect(decided.length, `decision at version ${i + 1}`).toBeGreaterThan(0);
    expect(canonicalJson(decided), `decision at version ${i + 1}`).toBe(
      canonicalJson(events.slice(i, i + decided.length)),
    );
    state = decided.reduce(evolve, state);
    i += decided.length;
  }
};

describe('magentic_one team', () => {
  it('solves a two-step task, re-plans once after a stall, and replays exactly', async () => {
    const model = createScriptedModelClient({ whenExhausted: 'error', script });
    const store = createInMemoryEventStore();
    const session = await createTeamSession(team, { store, sessionId: 'm1', model, clock: fixedClock });
    const result = await session.send('How many people live in Paris? Answer in one sentence.');
    expect(model.remaining()).toBe(0);
    expect(result.state.status).toBe('idle');
    expect(result.stopReason).toBe('the writer answered');
    expect(result.messages.map((m) => `${m.source}: ${m.content.split('\n').find((l) => l.trim())}`)).toEqual(
      [
        'user: How many people live in Paris? Answer in one sentence.',
        `${ORCH}: We are working to address the following user request:`,
        `${ORCH}: Find the population of Paris`,
        'researcher: I cannot find it.',
        `${ORCH}: Try again`,
        'researcher: I cannot find it.',
        `${ORCH}: We are working to address the following user request:`,
        `${ORCH}: Give the 2020 estimate`,
        'researcher: About 2.1 million (2020).',
        `${ORCH}: Write one sentence`,
        'writer: Paris has about 2.1 million inhabitants.',
        `${ORCH}: Paris has about 2.1 million inhabitants (2020 estimate).`,
      ],
    );

    const ledgers = dataOf(result.events, 'ProgressLedgerRecorded');
    expect(ledgers.map((l) => `${l.round}:${l.decision}:${l.stalls}`)).toEqual([
      '1:continue:0',
      '2:continue:1',
      '3:replan:2',
      '4:continue:1',
      '5:continue:0',
      '6:final_answer:0',
    ]);
    expect(ledgers[0]!.callId).toBe('t1.r1.ledger2'); // the malformed first answer was retried
    const tasks = dataOf(result.events, 'TaskLedgerUpdated');
    expect(tasks.map((t) => [t.outerLoop, t.facts, t.plan])).toEqual([
      [0, 'FACTS: the population of Paris is to be looked up', 'PLAN: researcher finds it, writer writes it'],
      [1, 'FACTS v2: estimates exist', 'PLAN v2: researcher gives the 2020 estimate, writer writes it'],
    ]);

    // the prompts: AutoGen's, with the task, the team and the old fact sheet filled in
    const orch = model.requests.filter((r) => r.agent === ORCH);
    expect(orch.map((r) => r.purpose)).toEqual([
      'task_facts',
      'task_plan',
      'progress_ledger',
      'progress_ledger',
      'progress_ledger',
      'progress_ledger',
      'task_facts',
      'task_plan',
      'progress_ledger',
      'progress_ledger',
      'progress_ledger',
      'final_answer',
    ]);
    expect(orch[0]!.messages).toHaveLength(1);
    expect(orch[0]!.messages[0]!.content).toContain('How many people live in Paris?');
    expect(orch[1]!.messages.at(-1)!.content).toContain(
      'researcher: Finds figures\nwriter: Writes the answer',
    );
    expect(orch[2]!.messages.at(-1)!.content).toContain('(select from: researcher, writer)');
    expect(orch[2]!.candidates).toEqual(['researcher', 'writer']);
    expect(orch[6]!.messages.at(-1)!.content).toContain(
      'Here is the old fact sheet:\n\nFACTS: the population of Paris is to be looked up',
    );
    expect(orch[6]!.messages.some((m) => m.content === 'I cannot find it.')).toBe(true);
    expect(orch[7]!.messages.at(-1)!.content).toContain('what went wrong on this last run');

    // participants start over from the new task ledger after the re-plan
    const researcher = model.requests.filter((r) => r.agent === 'researcher');
    const afterReplan = researcher[2]!.messages;
    expect(afterReplan[1]!.content).toContain('PLAN v2');
    expect(afterReplan.some((m) => m.content === 'I cannot find it.')).toBe(false);
    expect(afterReplan.at(-1)).toEqual({ role: 'user', content: 'Give the 2020 estimate', name: ORCH });

    // fold from scratch equals the live state; replay calls no model; decisions replay exactly
    const folded = foldEnvelopes(result.events);
    expect(JSON.stringify(folded)).toBe(JSON.stringify(result.state));
    const throwing: ModelClient = {
      complete: () => {
        throw new Error('replay must never call a model');
      },
    };
    const replay = await createTeamSession(team, { store, sessionId: 'm1', model: throwing });
    expect(JSON.stringify((await replay.drive()).state)).toBe(JSON.stringify(result.state));
    replayDecisions(result.events.map((e) => ({ type: e.type, data: e.data }) as SessionEvent));
  });

  it('stops with the final answer once more than maxTurns rounds were taken', async () => {
    const looping = spec({ ...team, maxTurns: 1, magenticOne: { maxStalls: 5 } });
    const model = createScriptedModelClient({
      whenExhausted: 'error',
      script: [
        { agent: ORCH, content: 'F' },
        { agent: ORCH, content: 'P' },
        { agent: ORCH, content: ledger({ say: 'go' }) },
        { agent: 'researcher', content: 'one' },
        { agent: ORCH, content: ledger({ say: 'again' }) },
        { agent: 'researcher', content: 'two' },
        { agent: ORCH, content: 'best effort: two' },
      ],
    });
    const result = await runTeam(looping, 'task', { model, clock: fixedClock });
    expect(model.remaining()).toBe(0);
    expect(result.stopReason).toBe('Max rounds reached.');
    expect(result.messages.at(-1)?.content).toBe('best effort: two');
  });

  it('fails the turn after maxJsonRetries malformed progress ledgers', async () => {
    const strict = spec({ ...team, magenticOne: { maxJsonRetries: 2 } });
    const model = createScriptedModelClient({
      whenExhausted: 'error',
      script: [
        { agent: ORCH, content: 'F' },
        { agent: ORCH, content: 'P' },
        { agent: ORCH, content: 'not json' },
        { agent: ORCH, content: ledger({ next: 'nobody' }) },
      ],
    });
    const result = await runTeam(strict, 'task', { model, clock: fixedClock });
    expect(result.state.status).toBe('failed');
    expect(result.stopReason).toBe(
      'Failed to parse ledger information after 2 attempts: next_speaker "nobody" is not a participant',
    );
  });

  it('binds the orchestrator model to an operator endpoint, refusing a URL of its own', () => {
    const input = {
      specVersion: 1,
      name: 'm',
      type: 'magentic_one',
      agents: [{ name: 'a' }],
      magenticOne: { model: { model: 'x', baseUrl: 'http://elsewhere.example/v1' } },
    };
    expect(() => parseTeamSpec(input, { toolNames: [] })).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ path: 'magenticOne.model.baseUrl' })] }),
    );
  });

  it('runs on the scripted demo model (the embedded default)', async () => {
    const result = await runTeam(team, 'Say hello', { clock: fixedClock });
    expect(result.state.status).toBe('idle');
    expect(result.stopReason).toBe('a participant answered');
    expect(result.messages.at(-1)?.source).toBe(ORCH);
  });
});
