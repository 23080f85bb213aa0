import { buildOrchestratorContext, magenticCallIds, orchestratorModel } from '../prompt/magentic-context.ts';
import { contextHashOf } from '../prompt/model-context.ts';
import { MAGENTIC_ORCHESTRATOR, type TeamSpec } from '../spec/team-spec.ts';
import { magenticPrompts, teamDescription } from '../team/magentic-one.prompts.ts';
import { nextStallCount, parseProgressLedger } from '../team/progress-ledger.ts';
import { endpointOf } from './call-endpoint.ts';
import type { OrchestratorCallPurpose, SessionEvent } from './session.events.ts';
import type { MagenticTurn, ModelCallState, Session, TurnState } from './session.state.ts';

/** AutoGen's MagenticOneGroupChat default `max_turns`. */
export const MAGENTIC_DEFAULT_MAX_TURNS = 20;

const iso = (now: Date): string => now.toISOString();

/**
 * The Magentic-One orchestrator as a pure step (AutoGen's MagenticOneOrchestrator): the outer
 * loop writes the task ledger (facts, then plan) and restarts the thread with it; the inner loop
 * asks for a progress ledger each round and then instructs the next speaker, re-plans after
 * `maxStalls` stalled rounds, or asks for the final answer when the request is satisfied or more
 * than `maxTurns` rounds were taken. `stop` is the team's termination check (after agent messages).
 */
export const magenticStep = (
  s: Session,
  spec: TeamSpec,
  turn: TurnState,
  now: Date,
  stop: () => string | null,
): SessionEvent[] => {
  const m = turn.magentic;
  if (!m)
    return [
      { type: 'TurnFailed', data: { turnId: turn.turnId, reason: 'no orchestrator state', at: iso(now) } },
    ];
  if (turn.phase === 'orchestrating') return afterOrchestratorCall(s, spec, turn, m, now);
  const reason = stop();
  if (reason !== null)
    return [{ type: 'TurnCompleted', data: { turnId: turn.turnId, reason, at: iso(now) } }];
  if (m.plan === null) return request(s, spec, turn, 'task_facts', magenticCallIds.facts(turn.turnId, 0), 1);
  const maxTurns = spec.maxTurns ?? MAGENTIC_DEFAULT_MAX_TURNS;
  // As AutoGen: the final answer comes once more than max_turns rounds were taken.
  if (m.rounds > maxTurns)
    return request(s, spec, turn, 'final_answer', magenticCallIds.final(turn.turnId), 1);
  return requestLedger(s, spec, turn, m, 1);
};

const request = (
  s: Session,
  spec: TeamSpec,
  turn: TurnState,
  purpose: OrchestratorCallPurpose,
  callId: string,
  iteration: number,
): SessionEvent[] => {
  const pending: ModelCallState = {
    callId,
    turnId: turn.turnId,
    step: turn.step,
    agent: MAGENTIC_ORCHESTRATOR,
    purpose,
    iteration,
    contextLength: s.thread.length,
    contextHash: '',
    status: 'pending',
  };
  const messages = buildOrchestratorContext(spec, s, pending);
  const { status: _status, ...data } = pending;
  return [
    {
      type: 'ModelCallRequested',
      data: { ...data, contextHash: contextHashOf(messages, []), ...endpointOf(orchestratorModel(spec)) },
    },
  ];
};

const requestLedger = (
  s: Session,
  spec: TeamSpec,
  turn: TurnState,
  m: MagenticTurn,
  attempt: number,
): SessionEvent[] =>
  request(
    s,
    spec,
    turn,
    'progress_ledger',
    magenticCallIds.ledger(turn.turnId, m.rounds + 1, attempt),
    attempt,
  );

const orchestratorMessage = (turn: TurnState, messageId: string, content: string): SessionEvent => ({
  type: 'AgentMessageEmitted',
  data: { messageId, turnId: turn.turnId, agent: MAGENTIC_ORCHESTRATOR, content, messageType: 'text' },
});

const afterOrchestratorCall = (
  s: Session,
  spec: TeamSpec,
  turn: TurnState,
  m: MagenticTurn,
  now: Date,
): SessionEvent[] => {
  const last = s.modelCalls[turn.stepCalls.at(-1) ?? ''];
  if (!last || last.status === 'pending') return [];
  if (last.status === 'failed')
    return [
      {
        type: 'TurnFailed',
        data: {
          turnId: turn.turnId,
          reason: `model call ${last.callId} failed: ${last.error?.message ?? 'unknown error'}`,
          ...(last.error ? { error: last.error } : {}),
          at: iso(now),
        },
      },
    ];
  const outerLoop = last.iteration - 1;
  switch (last.purpose) {
    case 'task_facts':
      return request(
        s,
        spec,
        turn,
        'task_plan',
        magenticCallIds.plan(turn.turnId, outerLoop),
        last.iteration,
      );
    case 'task_plan': {
      const facts = s.modelCalls[magenticCallIds.facts(turn.turnId, outerLoop)]?.content ?? '';
      const plan = last.content ?? '';
      const full = magenticPrompts.full(m.task, teamDescription(spec.agents), facts, plan);
      return [
        {
          type: 'TaskLedgerUpdated',
          data: {
            turnId: turn.turnId,
            outerLoop,
            facts,
            plan,
            factsCallId: magenticCallIds.facts(turn.turnId, outerLoop),
            planCallId: last.callId,
          },
        },
        orchestratorMessage(turn, `${turn.turnId}.l${outerLoop}.msg`, full),
      ];
    }
    case 'progress_ledger':
      return afterLedger(s, spec, turn, m, last, now);
    case 'final_answer':
      return [
        orchestratorMessage(turn, `${turn.turnId}.final.msg`, last.content ?? ''),
        { type: 'TurnCompleted', data: { turnId: turn.turnId, reason: finalReason(m), at: iso(now) } },
      ];
    default:
      return [];
  }
};

const finalReason = (m: MagenticTurn): string =>
  m.lastLedger?.decision === 'final_answer'
    ? m.lastLedger.ledger.is_request_satisfied.reason
    : 'Max rounds reached.';

const afterLedger = (
  s: Session,
  spec: TeamSpec,
  turn: TurnState,
  m: MagenticTurn,
  last: ModelCallState,
  now: Date,
): SessionEvent[] => {
  const recorded = m.lastLedger?.callId === last.callId ? m.lastLedger : null;
  if (recorded) {
    if (recorded.decision === 'final_answer')
      return request(s, spec, turn, 'final_answer', magenticCallIds.final(turn.turnId), 1);
    if (recorded.decision === 'replan')
      return request(
        s,
        spec,
        turn,
        'task_facts',
        magenticCallIds.facts(turn.turnId, m.outerLoop + 1),
        m.outerLoop + 2,
      );
    return [
      orchestratorMessage(
        turn,
        `${turn.turnId}.r${m.rounds}.msg`,
        recorded.ledger.instruction_or_question.answer,
      ),
      {
        type: 'SpeakerSelected',
        data: {
          turnId: turn.turnId,
          step: turn.step + 1,
          agent: recorded.ledger.next_speaker.answer,
          method: 'magentic_one',
        },
      },
    ];
  }
  const parsed = parseProgressLedger(
    last.content ?? null,
    spec.agents.map((a) => a.name),
  );
  if (!parsed.ok) {
    const maxRetries = spec.magenticOne?.maxJsonRetries ?? 10;
    if (last.iteration < maxRetries) return requestLedger(s, spec, turn, m, last.iteration + 1);
    return [
      {
        type: 'TurnFailed',
        data: {
          turnId: turn.turnId,
          reason: `Failed to parse ledger information after ${maxRetries} attempts: ${parsed.error}`,
          at: iso(now),
        },
      },
    ];
  }
  const stalls = nextStallCount(m.stalls, parsed.ledger);
  const maxStalls = spec.magenticOne?.maxStalls ?? 3;
  const decision = parsed.ledger.is_request_satisfied.answer
    ? 'final_answer'
    : stalls >= maxStalls
      ? 'replan'
      : 'continue';
  return [
    {
      type: 'ProgressLedgerRecorded',
      data: {
        turnId: turn.turnId,
        callId: last.callId,
        round: m.rounds + 1,
        ledger: parsed.ledger,
        stalls,
        decision,
      },
    },
  ];
};
