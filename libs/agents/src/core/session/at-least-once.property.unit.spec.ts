import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { spec } from '../../testing/session-harness.ts';
import { nextAction } from './next-action.ts';
import type { CommandMetadata, SessionCommand } from './session.commands.ts';
import { decide } from './session.decide.ts';
import { evolve } from './session.evolve.ts';
import { initialSession, type Session } from './session.state.ts';

type Choice = Readonly<{ pick: number; kind: number; redeliver: boolean; ok: boolean }>;

const choiceArb: fc.Arbitrary<Choice> = fc.record({
  pick: fc.nat(5),
  kind: fc.nat(5),
  redeliver: fc.boolean(),
  ok: fc.boolean(),
});

const teams = [
  spec({
    type: 'single',
    agents: [{ name: 'a', tools: ['calc'], handoffs: ['user'], approvalRequired: ['calc'] }],
  }),
  spec({
    type: 'round_robin',
    agents: [
      { name: 'a', tools: ['calc'], maxToolIterations: 2 },
      { kind: 'user_proxy', name: 'human' },
      { name: 'b' },
    ],
    termination: { kind: 'max_messages', limit: 6 },
  }),
  spec({
    type: 'selector',
    agents: [{ name: 'a', tools: ['calc'], reflectOnToolUse: true }, { name: 'b' }, { name: 'c' }],
    termination: {
      kind: 'any_of',
      conditions: [
        { kind: 'text_mention', text: 'STOP' },
        { kind: 'max_messages', limit: 5 },
      ],
    },
  }),
  spec({
    type: 'swarm',
    agents: [
      { name: 'a', handoffs: ['b', 'user'], tools: ['calc'] },
      { name: 'b', handoffs: ['a'] },
    ],
    termination: {
      kind: 'any_of',
      conditions: [
        { kind: 'handoff', target: 'user' },
        { kind: 'max_messages', limit: 6 },
      ],
    },
    onBusy: 'interrupt',
  }),
];

/**
 * Delivery is at least once: every result, approval and message may arrive again, late, after the
 * session moved on. Whatever the order, a redelivered command decides `[]` and never throws.
 */
describe('at-least-once delivery (property)', () => {
  // 300 generated runs of up to 60 commands: seconds under Stryker's coverage or a loaded machine.
  it('a redelivered result, approval or message decides nothing', { timeout: 60_000 }, () =>
    fc.assert(
      fc.property(
        fc.nat(teams.length - 1),
        fc.array(choiceArb, { minLength: 5, maxLength: 60 }),
        (teamIndex, choices) => {
          const team = teams[teamIndex]!;
          let state: Session = initialSession();
          let n = 0;
          const meta = (): CommandMetadata => ({
            commandId: `c${++n}`,
            correlationId: 'x',
            now: new Date(1_700_000_000_000 + n * 1000),
          });
          const delivered: SessionCommand[] = [];
          const send = (command: SessionCommand): void => {
            for (const e of decide(command, state)) state = evolve(state, e);
            if (command.type !== 'StartSession') delivered.push(command);
          };
          send({
            type: 'StartSession',
            data: { sessionId: 's', tenantId: 't', teamId: 'team', spec: team },
            metadata: meta(),
          });
          let messages = 0;
          // Every mid-run redelivery with what it decided and whether it touched the state.
          const redeliveries: { type: string; decided: number; stateChanged: boolean }[] = [];
          for (const choice of choices) {
            const again = choice.redeliver ? delivered[choice.pick % delivered.length] : undefined;
            if (again !== undefined && again.type !== 'PostUserMessage' && again.type !== 'CancelTurn') {
              const before = JSON.stringify(state);
              const events = decide({ ...again, metadata: meta() } as SessionCommand, state);
              redeliveries.push({
                type: again.type,
                decided: events.length,
                stateChanged: JSON.stringify(state) !== before,
              });
            }
            const action = nextAction(state);
            switch (action.kind) {
              case 'call_model':
              case 'select_speaker': {
                const names = ['a', 'b', 'c', 'human', 'nobody'];
                const toolCalls =
                  choice.kind === 1
                    ? [{ id: 'x', name: 'calc', arguments: '{}' }]
                    : choice.kind === 2
                      ? [{ id: 'h', name: choice.ok ? 'transfer_to_b' : 'transfer_to_user', arguments: '{}' }]
                      : [];
                const type = action.kind === 'select_speaker' ? 'RecordSpeakerSelection' : 'RecordModelCall';
                send(
                  choice.kind === 5
                    ? ({
                        type,
                        data: {
                          callId: action.callId,
                          outcome: 'failed',
                          error: { type: 'x', message: 'x', retryable: true },
                          latencyMs: 1,
                        },
                        metadata: meta(),
                      } as SessionCommand)
                    : ({
                        type,
                        data: {
                          callId: action.callId,
                          outcome: 'completed',
                          content:
                            action.kind === 'select_speaker'
                              ? names[choice.pick % names.length]!
                              : choice.kind === 3
                                ? 'STOP'
                                : 'text',
                          toolCalls: action.kind === 'select_speaker' ? [] : toolCalls,
                          usage: { promptTokens: 1, completionTokens: 1 },
                          finishReason: 'stop',
                          latencyMs: 1,
                        },
                        metadata: meta(),
                      } as SessionCommand),
                );
                break;
              }
              case 'run_tools':
                for (const call of action.calls)
                  send({
                    type: 'RecordToolResult',
                    data: choice.ok
                      ? { toolCallId: call.toolCallId, outcome: 'completed', result: '1', latencyMs: 1 }
                      : {
                          toolCallId: call.toolCallId,
                          outcome: 'failed',
                          reason: 'unknown-outcome',
                          message: 'lost',
                          latencyMs: 1,
                        },
                    metadata: meta(),
                  });
                break;
              case 'await_approval':
                send({
                  type: 'DecideApproval',
                  data: { toolCallId: action.toolCallIds[0]!, approve: choice.ok },
                  metadata: meta(),
                });
                break;
              default:
                if (choice.kind === 4 && state.turn) send({ type: 'CancelTurn', data: {}, metadata: meta() });
                else
                  send({
                    type: 'PostUserMessage',
                    data: { messageId: `m${messages++}`, content: 'hi' },
                    metadata: meta(),
                  });
            }
          }
          expect(redeliveries.filter((r) => r.decided > 0 || r.stateChanged)).toEqual([]);
          for (const command of delivered) {
            if (command.type === 'CancelTurn') continue;
            expect(decide({ ...command, metadata: meta() } as SessionCommand, state)).toEqual([]);
          }
        },
      ),
      { numRuns: 300 },
    ),
  );
});
