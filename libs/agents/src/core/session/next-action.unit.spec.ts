import { describe, expect, it } from 'vitest';
import { sessionHarness, spec } from '../../testing/session-harness.ts';
import type { TeamSpec } from '../spec/team-spec.ts';
import { effectIdempotencyKey, hasRunnableWork, nextAction } from './next-action.ts';

/** What the session needs next, for each state an effect runner or a client meets. */
const started = (team: TeamSpec) => {
  const h = sessionHarness(team);
  h.start();
  return h;
};
const single = spec({
  type: 'single',
  agents: [{ name: 'a', tools: ['calculator', 'refund'], approvalRequired: ['refund'] }],
});

describe('effectIdempotencyKey', () => {
  it('is the tenant, the session and the call id', () =>
    expect(effectIdempotencyKey({ tenantId: 'acme', sessionId: 's9' }, 't1.s1.m1')).toBe('acme/s9:t1.s1.m1'));
});

describe('nextAction', () => {
  it('an idle session waits, with its status; a failed turn leaves it failed', () => {
    const h = started(single);
    expect(nextAction(h.state())).toEqual({ kind: 'idle', status: 'idle' });
    expect(hasRunnableWork(h.state())).toBe(false);
    h.post('m1', 'Hi');
    h.failModel('down', false);
    expect(nextAction(h.state())).toEqual({ kind: 'idle', status: 'failed' });
    expect(hasRunnableWork(h.state())).toBe(false);
  });

  it('a pending agent call is a model call with its key and context hash', () => {
    const h = started(single);
    h.post('m1', 'Hi');
    const call = h.state().modelCalls['t1.s1.m1']!;
    expect(nextAction(h.state())).toEqual({
      kind: 'call_model',
      callId: 't1.s1.m1',
      agent: 'a',
      purpose: 'agent',
      idempotencyKey: 'tenant/s1:t1.s1.m1',
      contextHash: call.contextHash,
    });
    expect(hasRunnableWork(h.state())).toBe(true);
  });

  it('a pending selector call is a speaker selection', () => {
    const h = started(spec({ type: 'selector', agents: [{ name: 'x' }, { name: 'y' }, { name: 'z' }] }));
    h.post('m1', 'task');
    expect(nextAction(h.state())).toEqual({
      kind: 'select_speaker',
      callId: 't1.s1.sel1',
      idempotencyKey: 'tenant/s1:t1.s1.sel1',
      contextHash: h.state().modelCalls['t1.s1.sel1']!.contextHash,
    });
    expect(hasRunnableWork(h.state())).toBe(true);
  });

  it('runs the pending tools up to the parallel limit, those awaiting approval left out', () => {
    const team = spec({ ...single, limits: { maxParallelToolCalls: 2 } });
    const h = started(team);
    h.post('m1', 'Hi');
    h.answer(null, [
      { name: 'refund', arguments: '{"n":0}' },
      { name: 'calculator', arguments: '{"a":1}' },
      { name: 'calculator', arguments: '{"a":2}' },
      { name: 'calculator', arguments: '{"a":3}' },
    ]);
    expect(nextAction(h.state())).toEqual({
      kind: 'run_tools',
      calls: [
        {
          toolCallId: 't1.s1.m1.t1',
          idempotencyKey: 'tenant/s1:t1.s1.m1.t1',
          agent: 'a',
          name: 'calculator',
          arguments: '{"a":1}',
          approved: false,
        },
        {
          toolCallId: 't1.s1.m1.t2',
          idempotencyKey: 'tenant/s1:t1.s1.m1.t2',
          agent: 'a',
          name: 'calculator',
          arguments: '{"a":2}',
          approved: false,
        },
      ],
    });
    expect(hasRunnableWork(h.state())).toBe(true);
    for (const id of ['t1.s1.m1.t1', 't1.s1.m1.t2', 't1.s1.m1.t3']) h.toolResult(id, '1');
    expect(nextAction(h.state())).toEqual({ kind: 'await_approval', toolCallIds: ['t1.s1.m1.t0'] });
    expect(hasRunnableWork(h.state())).toBe(false);
  });

  it('runs four tools at a time by default, and an approved one as approved', () => {
    const h = started(single);
    h.post('m1', 'Hi');
    h.answer(null, [
      { name: 'refund', arguments: '{}' },
      ...[1, 2, 3, 4, 5].map((n) => ({ name: 'calculator', arguments: `{"a":${n}}` })),
    ]);
    const first = nextAction(h.state());
    expect(first.kind === 'run_tools' && first.calls.map((c) => c.toolCallId)).toEqual([
      't1.s1.m1.t1',
      't1.s1.m1.t2',
      't1.s1.m1.t3',
      't1.s1.m1.t4',
    ]);
    h.send({ type: 'DecideApproval', data: { toolCallId: 't1.s1.m1.t0', approve: true } });
    const after = nextAction(h.state());
    expect(after.kind === 'run_tools' && after.calls[0]).toMatchObject({
      toolCallId: 't1.s1.m1.t0',
      approved: true,
    });
  });

  it('a user proxy in a turn, or a handoff to the user that ended it, awaits input', () => {
    const h = started(
      spec({ type: 'round_robin', agents: [{ kind: 'user_proxy', name: 'human' }, { name: 'a' }] }),
    );
    h.post('m1', 'Hi');
    expect(nextAction(h.state())).toEqual({ kind: 'await_input', agent: 'human', reason: 'user_proxy' });
    expect(hasRunnableWork(h.state())).toBe(false);
    const swarm = started(
      spec({
        type: 'swarm',
        agents: [{ name: 'a', handoffs: ['user'] }, { name: 'b' }],
        termination: { kind: 'handoff', target: 'user' },
      }),
    );
    swarm.post('m1', 'Hi');
    swarm.answer(null, [{ name: 'transfer_to_user', arguments: '{}' }]);
    expect(swarm.state().turn).toBeNull();
    expect(nextAction(swarm.state())).toEqual({ kind: 'await_input', agent: 'a', reason: 'handoff' });
  });

  it('a closed session is closed', () => {
    const h = started(single);
    h.send({ type: 'CloseSession', data: {} });
    expect(nextAction(h.state())).toEqual({ kind: 'closed' });
    expect(hasRunnableWork(h.state())).toBe(false);
  });
});
