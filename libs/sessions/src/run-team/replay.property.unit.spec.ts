import { createInMemoryEventStore } from '@agentledger/events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  calculatorTool,
  createToolRegistry,
  defineTool,
  evolve,
  initialSession,
  replayDecisions,
  ModelCallError,
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
  type SessionEvent,
  type TeamSpec,
} from '@agentledger/agents';
import { spec } from '@agentledger/agents/testing';
import { foldEnvelopes } from '../engine/session-engine.ts';
import { createTeamSession } from './team-session.ts';

type Move =
  | { kind: 'text'; terminate: boolean }
  | { kind: 'tool'; valid: boolean; count: number }
  | { kind: 'handoff'; index: number }
  | { kind: 'pick'; index: number }
  | { kind: 'error' };

const moveArb: fc.Arbitrary<Move> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), terminate: fc.boolean() }),
  fc.record({
    kind: fc.constant('tool' as const),
    valid: fc.boolean(),
    count: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ kind: fc.constant('handoff' as const), index: fc.nat(3) }),
  fc.record({ kind: fc.constant('pick' as const), index: fc.nat(4) }),
  fc.constant({ kind: 'error' as const }),
);

type UserMove = 'reply' | 'approve' | 'deny' | 'cancel' | 'message';

const teamArb: fc.Arbitrary<TeamSpec> = fc
  .record({
    type: fc.constantFrom('single', 'round_robin', 'selector', 'swarm', 'magentic_one'),
    agentCount: fc.integer({ min: 1, max: 3 }),
    proxy: fc.boolean(),
    reflect: fc.boolean(),
    iterations: fc.integer({ min: 1, max: 2 }),
    approval: fc.boolean(),
    limit: fc.integer({ min: 2, max: 8 }),
    onBusy: fc.constantFrom('enqueue', 'interrupt'),
  })
  .map(({ type, agentCount, proxy, reflect, iterations, approval, limit, onBusy }) => {
    const count = type === 'single' ? 1 : agentCount;
    const names = Array.from({ length: count }, (_, i) => `agent_${i}`);
    const agents: unknown[] = names.map((name) => ({
      name,
      tools: ['calculator'],
      approvalRequired: approval ? ['calculator'] : [],
      reflectOnToolUse: reflect,
      maxToolIterations: iterations,
      handoffs:
        type === 'swarm' ? [...names.filter((n) => n !== name), 'user'] : type === 'single' ? ['user'] : [],
    }));
    if (proxy && (type === 'round_robin' || type === 'selector' || type === 'magentic_one'))
      agents.push({ kind: 'user_proxy', name: 'human' });
    return spec({
      type,
      agents: agents as never,
      termination: {
        kind: 'any_of',
        conditions: [
          { kind: 'text_mention', text: 'TERMINATE', sources: names },
          { kind: 'max_messages', limit },
        ],
      },
      onBusy,
      ...(type === 'magentic_one'
        ? { maxTurns: limit, magenticOne: { maxStalls: 2, maxJsonRetries: 2 } }
        : {}),
    });
  });

/** A progress ledger per move: done, a valid or invalid speaker, a stall, or no JSON at all. */
const ledgerFor = (move: Move, candidates: readonly string[], i: number): string => {
  if (move.kind === 'tool' && !move.valid) return 'not a ledger';
  const judged = (answer: boolean | string) => ({ reason: 'r', answer });
  const names = [...candidates, 'nobody'];
  return JSON.stringify({
    is_request_satisfied: judged(move.kind === 'text' && move.terminate),
    is_in_loop: judged(move.kind === 'handoff'),
    is_progress_being_made: judged(move.kind !== 'tool'),
    next_speaker: judged(names[(move.kind === 'pick' ? move.index : i) % names.length]!),
    instruction_or_question: judged(`do ${i}`),
  });
};

/** A model that plays the generated moves in order, then says TERMINATE. */
const playingModel = (moves: readonly Move[], team: TeamSpec): ModelClient => {
  let i = 0;
  return {
    complete: async (request: ModelRequest): Promise<ModelResponse> => {
      const move = moves[i++] ?? { kind: 'text', terminate: true };
      const usage = { promptTokens: 3, completionTokens: 2 };
      const text = (content: string): ModelResponse => ({
        content,
        toolCalls: [],
        usage,
        finishReason: 'stop',
      });
      if (move.kind === 'error') throw new ModelCallError('server_error', 'scripted failure', true);
      if (request.purpose === 'progress_ledger') return text(ledgerFor(move, request.candidates ?? [], i));
      if (request.purpose === 'select_speaker') {
        const names = [...(request.candidates ?? []), 'nobody'];
        return text(names[(move.kind === 'pick' ? move.index : i) % names.length]!);
      }
      if (move.kind === 'tool' && request.tools.some((t) => t.name === 'calculator')) {
        const args = move.valid ? '{"a":2,"b":3,"operator":"*"}' : '{"a":';
        const toolCalls = Array.from({ length: move.count }, (_, k) => ({
          id: `c${k}`,
          name: 'calculator',
          arguments: args,
        }));
        return { content: null, toolCalls, usage, finishReason: 'tool_calls' };
      }
      const handoffs = request.tools.filter((t) => t.name.startsWith('transfer_to_'));
      if (move.kind === 'handoff' && handoffs.length > 0) {
        const name = handoffs[move.index % handoffs.length]!.name;
        return {
          content: null,
          toolCalls: [{ id: 'h', name, arguments: '{}' }],
          usage,
          finishReason: 'tool_calls',
        };
      }
      void team;
      return text(move.kind === 'text' && move.terminate ? 'done TERMINATE' : `reply ${i}`);
    },
  };
};

const throwing: ModelClient = {
  complete: () => {
    throw new Error('replay must never call a model');
  },
};
const throwingTools = createToolRegistry([
  defineTool({
    ...calculatorTool,
    parameters: calculatorTool.parameters,
    execute: () => {
      throw new Error('replay must never run a tool');
    },
  }),
]);

describe('replay (property)', () => {
  it('folding the recorded events from scratch yields exactly the live state; replay calls nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        teamArb,
        fc.array(moveArb, { maxLength: 30 }),
        fc.array(fc.constantFrom<UserMove>('reply', 'approve', 'deny', 'cancel', 'message'), {
          maxLength: 6,
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (team, moves, userMoves, splitAt) => {
          const store = createInMemoryEventStore();
          let tick = Date.parse('2026-01-01T00:00:00.000Z');
          const clock = () => new Date((tick += 1000));
          const session = await createTeamSession(team, {
            store,
            sessionId: 'prop',
            model: playingModel(moves, team),
            clock,
            maxEffects: 500,
          });
          let live = (await session.send('task: 2 * 3')).state;
          for (const move of userMoves) {
            if (move === 'approve' || move === 'deny') {
              const pending = live.pending.approvals[0];
              if (pending)
                live = (await session.decideApproval(pending.toolCallId, move === 'approve')).state;
            } else if (move === 'cancel') live = (await session.cancel()).state;
            else live = (await session.send(move === 'reply' ? 'here you go' : 'another task')).state;
          }
          const events = await store.readStream('session-default/prop', { tenantId: 'default' });
          const folded = foldEnvelopes(events);
          expect(JSON.stringify(folded)).toBe(JSON.stringify(live));
          expect(folded.version).toBe(events.length);
          // A fold writes its own copy of the transcript in place: the state it starts from (a
          // snapshot, a cached session) is never changed, and the result is evolve's, event by event.
          const split = Math.floor(splitAt * events.length);
          const prefix = foldEnvelopes(events.slice(0, split));
          const prefixBefore = JSON.stringify(prefix);
          const resumed = foldEnvelopes(events.slice(split), prefix);
          expect(JSON.stringify(prefix)).toBe(prefixBefore);
          expect(JSON.stringify(resumed)).toBe(JSON.stringify(live));
          const stepByStep = events.reduce(
            (state, e) => evolve(state, e as unknown as SessionEvent),
            initialSession(),
          );
          expect(JSON.stringify(stepByStep)).toBe(JSON.stringify(live));
          const recorded = events.map((e) => ({
            ...(e as unknown as SessionEvent),
            recordedAt: e.recordedAt,
          }));
          expect(replayDecisions(recorded)).toEqual({ matches: true, eventCount: events.length });

          const replay = await createTeamSession(team, {
            store,
            sessionId: 'prop',
            model: throwing,
            tools: throwingTools,
          });
          const replayed = await replay.drive();
          expect(JSON.stringify(replayed.state)).toBe(JSON.stringify(live));
          expect((await store.readStream('session-default/prop', { tenantId: 'default' })).length).toBe(
            events.length,
          );
        },
      ),
      { numRuns: 150 },
    );
    // 150 generated sessions, each folded, driven again and decision-replayed: seconds on a busy machine.
  }, 60_000);
});
