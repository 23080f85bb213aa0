import type { ModelToolCall } from '../core/model/model-client.port.ts';
import { nextAction } from '../core/session/next-action.ts';
import type { CommandMetadata, SessionCommand } from '../core/session/session.commands.ts';
import { decide } from '../core/session/session.decide.ts';
import type { SessionEvent } from '../core/session/session.events.ts';
import { evolve } from '../core/session/session.evolve.ts';
import { initialSession, type Session } from '../core/session/session.state.ts';
import { teamSpecSchema, type TeamSpec, type TeamSpecInput } from '../core/spec/team-spec.ts';

export const T0 = '2026-01-01T00:00:00.000Z';

export const spec = (input: Omit<TeamSpecInput, 'specVersion' | 'name'> & { name?: string }): TeamSpec =>
  teamSpecSchema.parse({ specVersion: 1, name: 'team', ...input });

const metaAt = (now: Date, n: number): CommandMetadata => ({
  commandId: `c${n}`,
  correlationId: 'corr',
  now,
});

/**
 * Builds a session by sending commands through the real decider, for given/when/then tests:
 * `events` are what the log would hold.
 */
export const sessionHarness = (team: TeamSpec, sessionId = 's1') => {
  const events: SessionEvent[] = [];
  let state: Session = initialSession();
  let n = 0;
  let clock = new Date(T0);
  const meta = (): CommandMetadata => metaAt(clock, ++n);
  const send = (command: Omit<SessionCommand, 'metadata'>): readonly SessionEvent[] => {
    const out = decide({ ...command, metadata: meta() } as SessionCommand, state);
    for (const e of out) {
      events.push(e);
      state = evolve(state, e);
    }
    return out;
  };
  const h = {
    events,
    state: () => state,
    meta,
    advanceClock: (ms: number) => {
      clock = new Date(clock.getTime() + ms);
    },
    send,
    start: () =>
      send({ type: 'StartSession', data: { sessionId, tenantId: 'tenant', teamId: 'team', spec: team } }),
    post: (messageId: string, content: string) =>
      send({ type: 'PostUserMessage', data: { messageId, content } }),
    /** Answers the pending model call (agent or selector) with text and/or tool calls. */
    answer: (content: string | null, toolCalls: readonly Omit<ModelToolCall, 'id'>[] = [], tokens = 10) => {
      const action = nextAction(state);
      if (action.kind !== 'call_model' && action.kind !== 'select_speaker')
        throw new Error(`no model call pending (${action.kind})`);
      return send({
        type: action.kind === 'select_speaker' ? 'RecordSpeakerSelection' : 'RecordModelCall',
        data: {
          callId: action.callId,
          outcome: 'completed',
          content,
          toolCalls: toolCalls.map((tc, i) => ({ id: `m${i}`, ...tc })),
          usage: { promptTokens: tokens, completionTokens: tokens },
          finishReason: toolCalls.length ? 'tool_calls' : 'stop',
          latencyMs: 1,
        },
      });
    },
    failModel: (message = 'boom', retryable = true) => {
      const action = nextAction(state);
      if (action.kind !== 'call_model' && action.kind !== 'select_speaker')
        throw new Error('no model call pending');
      return send({
        type: action.kind === 'select_speaker' ? 'RecordSpeakerSelection' : 'RecordModelCall',
        data: {
          callId: action.callId,
          outcome: 'failed',
          error: { type: 'server_error', message, retryable },
          latencyMs: 1,
        },
      });
    },
    toolResult: (toolCallId: string, result: string) =>
      send({ type: 'RecordToolResult', data: { toolCallId, outcome: 'completed', result, latencyMs: 1 } }),
  };
  return h;
};

export const types = (events: readonly SessionEvent[]): string[] => events.map((e) => e.type);

/** One agent with the calculator and a `refund` tool that needs approval. */
export const approvalTeam = (): TeamSpec =>
  spec({
    type: 'single',
    agents: [{ name: 'a', tools: ['calculator', 'refund'], approvalRequired: ['refund'] }],
  });

/** A harness whose session `team` (default `approvalTeam()`) has started. */
export const startedSession = (team: TeamSpec = approvalTeam()) => {
  const h = sessionHarness(team);
  h.start();
  return h;
};
