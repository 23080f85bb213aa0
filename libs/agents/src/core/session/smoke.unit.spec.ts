import { describe, expect, it } from 'vitest';
import { given, meta } from '../../testing/decider-spec.ts';
import { teamSpecSchema } from '../spec/team-spec.ts';
import { decide } from './session.decide.ts';
import { foldSession } from './session.decider.ts';
import { nextAction } from './next-action.ts';
import type { SessionEvent } from './session.events.ts';

const spec = teamSpecSchema.parse({
  specVersion: 1,
  name: 'support',
  type: 'round_robin',
  agents: [{ name: 'a', tools: ['calculator'] }],
  termination: { kind: 'text_mention', text: 'TERMINATE' },
});

describe('smoke', () => {
  it('runs a tool turn', () => {
    const events: SessionEvent[] = [];
    const run = (cmd: Parameters<typeof decide>[0]) => {
      const out = decide(cmd, foldSession(events));
      events.push(...out);
      return out;
    };
    run({
      type: 'StartSession',
      data: { sessionId: 's1', tenantId: 't', teamId: 'team', spec },
      metadata: meta(),
    });
    run({ type: 'PostUserMessage', data: { messageId: 'm1', content: '2+3?' }, metadata: meta() });
    let s = foldSession(events);
    const a1 = nextAction(s);
    expect(a1.kind).toBe('call_model');
    if (a1.kind !== 'call_model') return;
    run({
      type: 'RecordModelCall',
      data: {
        callId: a1.callId,
        outcome: 'completed',
        content: null,
        toolCalls: [{ id: 'x', name: 'calculator', arguments: '{"a":2,"b":3,"operator":"+"}' }],
        usage: { promptTokens: 10, completionTokens: 5 },
        finishReason: 'tool_calls',
        latencyMs: 1,
      },
      metadata: meta(),
    });
    s = foldSession(events);
    const a2 = nextAction(s);
    expect(a2.kind).toBe('run_tools');
    if (a2.kind !== 'run_tools') return;
    run({
      type: 'RecordToolResult',
      data: { toolCallId: a2.calls[0]!.toolCallId, outcome: 'completed', result: '5', latencyMs: 1 },
      metadata: meta(),
    });
    s = foldSession(events);
    expect(s.messages.map((m) => m.content)).toEqual(['2+3?', '5']);
    expect(nextAction(s).kind).toBe('call_model');
    given(...events)
      .when({
        type: 'RecordToolResult',
        data: { toolCallId: a2.calls[0]!.toolCallId, outcome: 'completed', result: '5', latencyMs: 1 },
        metadata: meta(),
      })
      .thenNothing();
  });
});
