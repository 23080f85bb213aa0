import { createInMemoryEventStore } from '@agentledger/events';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import {
  builtinTools,
  calculatorTool,
  createScriptedModelClient,
  createToolRegistry,
  defineTool,
  nextAction,
} from '@agentledger/agents';
import { spec } from '@agentledger/agents/testing';
import { foldEnvelopes } from '../engine/session-engine.ts';
import { createTeamSession, runTeam } from './team-session.ts';

const fixedClock = () => new Date('2026-01-01T00:00:00.000Z');

describe('runTeam', () => {
  it('runs a selector team: the model picks speakers, AutoGen placeholders filled', async () => {
    const team = spec({
      type: 'selector',
      agents: [
        { name: 'planner', description: 'Plans the work' },
        { name: 'writer', description: 'Writes the answer' },
        { name: 'critic', description: 'Criticises' },
      ],
      selector: { prompt: 'Roles:\n{roles}\nPick from {participants}.\nHistory:\n{history}' },
      termination: { kind: 'text_mention', text: 'TERMINATE' },
    });
    const model = createScriptedModelClient({
      whenExhausted: 'error',
      script: [
        { agent: 'selector', content: 'planner' },
        { agent: 'planner', content: 'Plan: write a haiku.' },
        { agent: 'selector', content: 'I pick writer' },
        { agent: 'writer', content: 'Autumn moon... TERMINATE' },
      ],
    });
    const result = await runTeam(team, 'Write a haiku', { model, clock: fixedClock });
    expect(result.messages.map((m) => `${m.source}: ${m.content}`)).toEqual([
      'user: Write a haiku',
      'planner: Plan: write a haiku.',
      'writer: Autumn moon... TERMINATE',
    ]);
    expect(result.stopReason).toBe("Text 'TERMINATE' mentioned");
    const firstSelector = model.requests[0]!;
    expect(firstSelector.purpose).toBe('select_speaker');
    expect(firstSelector.messages[0]).toEqual({
      role: 'system',
      content:
        "Roles:\nplanner: Plans the work\nwriter: Writes the answer\ncritic: Criticises\nPick from ['planner', 'writer', 'critic'].\nHistory:\nuser: Write a haiku",
    });
    // allowRepeatedSpeaker is false: the second selection is not offered the planner
    expect(model.requests[2]!.candidates).toEqual(['writer', 'critic']);
    expect(
      result.events
        .filter((e) => e.type === 'SpeakerSelected')
        .map((e) => (e.data as { method: string }).method),
    ).toEqual(['selector', 'selector']);
  });

  it('runs a swarm: handoffs move the speaker, a handoff to the user pauses, the reply resumes', async () => {
    const team = spec({
      type: 'swarm',
      agents: [
        { name: 'travel_agent', handoffs: ['flights_refunder', 'user'] },
        { name: 'flights_refunder', handoffs: ['travel_agent', 'user'], tools: ['calculator'] },
      ],
      termination: {
        kind: 'any_of',
        conditions: [
          { kind: 'handoff', target: 'user' },
          { kind: 'text_mention', text: 'TERMINATE' },
        ],
      },
    });
    const model = createScriptedModelClient({
      whenExhausted: 'error',
      script: [
        { agent: 'travel_agent', toolCalls: [{ name: 'transfer_to_flights_refunder', arguments: '{}' }] },
        {
          agent: 'flights_refunder',
          content: 'What is your flight number?',
          toolCalls: [{ name: 'transfer_to_user', arguments: '{}' }],
        },
        {
          agent: 'flights_refunder',
          toolCalls: [{ name: 'calculator', arguments: { a: 100, b: 20, operator: '-' } }],
        },
        { agent: 'flights_refunder', content: 'Refunded 80. TERMINATE' },
      ],
    });
    const session = await createTeamSession(team, { model, clock: fixedClock });
    const first = await session.send('I want a refund');
    expect(first.state.status).toBe('awaiting_input');
    expect(first.stopReason).toBe('Handoff to user from flights_refunder detected.');
    expect(first.messages.map((m) => [m.source, m.messageType, m.target ?? ''])).toEqual([
      ['user', 'text', ''],
      ['travel_agent', 'handoff', 'flights_refunder'],
      ['flights_refunder', 'handoff', 'user'],
    ]);
    const second = await session.send('Flight AB123');
    expect(second.state.status).toBe('idle');
    expect(second.messages.map((m) => `${m.source}: ${m.content}`)).toEqual([
      'user: Flight AB123',
      'flights_refunder: 80',
      'flights_refunder: Refunded 80. TERMINATE',
    ]);
    // the refunder's context holds its own handoff exchange and the user's reply
    const refunderRequest = model.requests[2]!;
    expect(refunderRequest.messages.at(-1)).toEqual({ role: 'user', content: 'Flight AB123' });
    expect(refunderRequest.messages.some((m) => m.role === 'tool')).toBe(true);
  });

  it('pauses a swarm inside the turn when a handoff to the user does not terminate it', async () => {
    const team = spec({
      type: 'swarm',
      agents: [{ name: 'a', handoffs: ['user'] }],
      termination: { kind: 'text_mention', text: 'TERMINATE' },
    });
    const model = createScriptedModelClient({
      script: [
        { toolCalls: [{ name: 'transfer_to_user', arguments: '{}' }] },
        { content: 'thanks TERMINATE' },
      ],
    });
    const session = await createTeamSession(team, { model, clock: fixedClock });
    const paused = await session.send('hi');
    expect(paused.state.status).toBe('awaiting_input');
    expect(paused.state.turn?.turnId).toBe('t1');
    const done = await session.send('more info');
    expect(done.state.turn).toBeNull();
    expect(done.state.turnCount).toBe(1);
    expect(done.stopReason).toBe("Text 'TERMINATE' mentioned");
  });

  it('a handoff to a system outside the team waits for its input, like a handoff to the user', async () => {
    const team = spec({
      type: 'swarm',
      agents: [{ name: 'a', handoffs: ['crm_system'] }],
      termination: { kind: 'handoff', target: 'crm_system' },
    });
    const model = createScriptedModelClient({
      script: [{ toolCalls: [{ name: 'transfer_to_crm_system', arguments: '{}' }] }],
    });
    const result = await runTeam(team, 'sync the CRM', { model });
    expect(result.stopReason).toBe('Handoff to crm_system from a detected.');
    expect(result.state.status).toBe('awaiting_input');
  });

  it('stops a round robin on its token budget, selector and agent calls counted', async () => {
    const team = spec({
      type: 'round_robin',
      agents: [{ name: 'a' }, { name: 'b' }],
      termination: { kind: 'token_budget', maxTokens: 100 },
    });
    const model = createScriptedModelClient({
      script: [
        { content: 'one', usage: { promptTokens: 30, completionTokens: 10 } },
        { content: 'two', usage: { promptTokens: 30, completionTokens: 10 } },
        { content: 'three', usage: { promptTokens: 30, completionTokens: 10 } },
        { content: 'never', usage: { promptTokens: 30, completionTokens: 10 } },
      ],
    });
    const result = await runTeam(team, 'go', { model, clock: fixedClock });
    expect(result.messages.map((m) => m.source)).toEqual(['user', 'a', 'b', 'a']);
    expect(result.stopReason).toBe(
      'Token usage limit reached, total token count: 120, prompt token count: 90, completion token count: 30.',
    );
    expect(result.state.usage).toEqual({ promptTokens: 90, completionTokens: 30 });
    expect(model.remaining()).toBe(1);
  });

  it('counts selector calls in the token budget (limits.maxTokens)', async () => {
    const team = spec({
      type: 'selector',
      agents: [{ name: 'a' }, { name: 'b' }],
      limits: { maxParallelToolCalls: 4, maxTokens: 50 },
    });
    const model = createScriptedModelClient({
      script: [
        { agent: 'selector', content: 'a', usage: { promptTokens: 40, completionTokens: 20 } },
        { agent: 'a', content: 'never' },
      ],
    });
    const result = await runTeam(team, 'go', { model, clock: fixedClock });
    expect(result.stopReason).toMatch(/^Token usage limit reached, total token count: 60/);
    expect(result.messages.map((m) => m.source)).toEqual(['user']);
  });

  it('passes idempotency keys that name the tenant: two tenants with one session id never share one', async () => {
    const keys: string[] = [];
    const store = createInMemoryEventStore();
    const echo = defineTool({
      name: 'echo',
      description: 'Echoes',
      parameters: z.object({}),
      idempotent: true,
      requiresApproval: false,
      execute: (_args, ctx) => keys.push(`tool ${ctx.idempotencyKey}`),
    });
    for (const tenantId of ['tenant-a', 'tenant-b']) {
      const scripted = createScriptedModelClient({
        script: [{ toolCalls: [{ name: 'echo', arguments: {} }] }],
      });
      const model = {
        complete: (request: Parameters<typeof scripted.complete>[0], options: { signal?: AbortSignal }) => {
          keys.push(`model ${request.idempotencyKey}`);
          return scripted.complete(request, options);
        },
      };
      const team = spec({ type: 'single', agents: [{ name: 'support', tools: ['echo'] }] });
      const session = await createTeamSession(team, {
        store,
        tenantId,
        sessionId: 'same',
        model,
        tools: createToolRegistry([echo]),
        clock: fixedClock,
      });
      await session.send('go');
    }
    expect(keys).toEqual([
      'model tenant-a/same:t1.s1.m1',
      'tool tenant-a/same:t1.s1.m1.t0',
      'model tenant-b/same:t1.s1.m1',
      'tool tenant-b/same:t1.s1.m1.t0',
    ]);
  });

  it('runs a tool that requires approval: the run waits, a grant runs it once', async () => {
    let runs = 0;
    const refund = defineTool({
      name: 'refund',
      description: 'Refund an order',
      parameters: z.object({ orderId: z.string(), amount: z.number() }),
      idempotent: false,
      requiresApproval: true,
      execute: ({ orderId, amount }, ctx) => {
        runs += 1;
        return { refunded: amount, orderId, key: ctx.idempotencyKey };
      },
    });
    const team = spec({ type: 'single', agents: [{ name: 'support', tools: ['refund'] }] });
    const model = createScriptedModelClient({
      script: [{ toolCalls: [{ name: 'refund', arguments: { orderId: 'o-1', amount: 30 } }] }],
    });
    const session = await createTeamSession(team, {
      model,
      tools: createToolRegistry([refund]),
      clock: fixedClock,
      sessionId: 'sess-approval',
    });
    const waiting = await session.send('refund o-1');
    expect(waiting.state.status).toBe('awaiting_approval');
    expect(waiting.state.pending.approvals).toEqual([
      {
        toolCallId: 't1.s1.m1.t0',
        agent: 'support',
        name: 'refund',
        arguments: '{"orderId":"o-1","amount":30}',
      },
    ]);
    expect(runs).toBe(0);
    const done = await session.decideApproval('t1.s1.m1.t0', true);
    expect(runs).toBe(1);
    expect(done.state.status).toBe('idle');
    expect(done.messages.at(-1)?.content).toBe(
      '{"refunded":30,"orderId":"o-1","key":"default/sess-approval:t1.s1.m1.t0"}',
    );
    expect(done.events.map((e) => e.type)).toContain('ToolApprovalGranted');
  });

  it('a denied approval becomes an error result the model sees', async () => {
    const team = spec({
      type: 'single',
      agents: [
        { name: 'a', tools: ['calculator'], approvalRequired: ['calculator'], reflectOnToolUse: true },
      ],
    });
    const model = createScriptedModelClient({
      script: [
        { toolCalls: [{ name: 'calculator', arguments: { a: 1, b: 1, operator: '+' } }] },
        { content: 'Sorry, not allowed.' },
      ],
    });
    const result = await runTeam(team, '1+1', {
      model,
      approve: () => ({ approve: false, reason: 'policy' }),
    });
    expect(result.messages.at(-1)?.content).toBe('Sorry, not allowed.');
    expect(model.requests[1]!.messages.at(-1)).toEqual({
      role: 'tool',
      toolCallId: 't1.s1.m1.t0',
      content: 'Error: the user denied this tool call: policy',
    });
  });

  it('runs parallel tool calls, bounded, and validates arguments before execution', async () => {
    const team = spec({
      type: 'single',
      agents: [{ name: 'a', tools: ['calculator'] }],
      limits: { maxParallelToolCalls: 2 },
    });
    const model = createScriptedModelClient({
      script: [
        {
          toolCalls: [
            { name: 'calculator', arguments: { a: 1, b: 2, operator: '+' } },
            { name: 'calculator', arguments: '{"a": 1, "b": ' },
            { name: 'calculator', arguments: { a: 'x', b: 2, operator: '*' } },
          ],
        },
      ],
    });
    const result = await runTeam(team, 'compute', { model });
    expect(result.messages.at(-1)?.content.split('\n')).toEqual([
      '3',
      expect.stringMatching(/^Error: arguments are not valid JSON/),
      expect.stringMatching(/^Error: invalid arguments for 'calculator': a: /),
    ]);
  });

  it('records a failed model call and fails the turn; the next message starts a new turn', async () => {
    const team = spec({ type: 'single', agents: [{ name: 'a' }] });
    const model = createScriptedModelClient({
      script: [
        { error: { type: 'server_error', message: '500 after retries', retryable: true } },
        { content: 'back' },
      ],
    });
    const session = await createTeamSession(team, { model });
    const failed = await session.send('hi');
    expect(failed.state.status).toBe('failed');
    expect(failed.events.map((e) => e.type).slice(-2)).toEqual(['ModelCallFailed', 'TurnFailed']);
    const ok = await session.send('again');
    expect(ok.state.status).toBe('idle');
    expect(ok.messages.at(-1)?.content).toBe('back');
  });

  it('resumes from the store on another runner without calling anything twice', async () => {
    const store = createInMemoryEventStore();
    const team = spec({ type: 'single', agents: [{ name: 'a', tools: ['calculator'] }] });
    await runTeam(team, 'What is 2 + 2?', { store, sessionId: 's-resume' });
    const boom = () => {
      throw new Error('must not be called on replay');
    };
    const second = await createTeamSession(team, {
      store,
      sessionId: 's-resume',
      model: { complete: boom },
      tools: createToolRegistry([
        defineTool({ ...calculatorTool, parameters: calculatorTool.parameters, execute: boom }),
      ]),
    });
    const replayed = await second.drive();
    expect(replayed.state.status).toBe('idle');
    const events = await store.readStream('session-default/s-resume', { tenantId: 'default' });
    expect(foldEnvelopes(events)).toEqual(replayed.state);
  });

  it('marks a non-idempotent tool unknown-outcome when a new owner resumes it', async () => {
    const store = createInMemoryEventStore();
    const charge = defineTool({
      name: 'charge',
      description: 'charge a card',
      parameters: z.object({}),
      idempotent: false,
      requiresApproval: false,
      execute: () => 'charged',
    });
    const team = spec({ type: 'single', agents: [{ name: 'a', tools: ['charge'] }] });
    const model = createScriptedModelClient({
      script: [{ toolCalls: [{ name: 'charge', arguments: '{}' }] }],
    });
    const tools = createToolRegistry([charge]);
    const first = await createTeamSession(team, { store, sessionId: 's-crash', model, tools, maxEffects: 1 });
    await expect(first.send('pay')).rejects.toThrow(/more than 1 effects/);
    expect(nextAction(await first.state()).kind).toBe('run_tools');
    const owner = await createTeamSession(team, { store, sessionId: 's-crash', model, tools });
    const resumed = await owner.drive({ resumed: true });
    expect(resumed.events.find((e) => e.type === 'ToolCallFailed')?.data).toMatchObject({
      reason: 'unknown-outcome',
    });
  });

  it('cancel ends the turn; a closed session rejects messages', async () => {
    const team = spec({ type: 'single', agents: [{ name: 'a' }] });
    const session = await createTeamSession(team, { approve: () => undefined });
    const cancelled = await session.cancel('nothing running');
    expect(cancelled.state.status).toBe('idle');
    const closed = await session.close('done');
    expect(closed.state.status).toBe('closed');
    await expect(session.send('hi')).rejects.toMatchObject({ code: 'session_closed' });
  });

  it('runs the embedded demo (no model configured) with the built-in calculator', async () => {
    const team = spec({
      type: 'round_robin',
      agents: [{ name: 'support_agent', tools: ['calculator'] }],
      termination: {
        kind: 'any_of',
        conditions: [
          { kind: 'text_mention', text: 'TERMINATE' },
          { kind: 'max_messages', limit: 10 },
        ],
      },
    });
    const result = await runTeam(team, 'What is 12 * 3?', { tools: builtinTools() });
    expect(result.messages.map((m) => m.content)).toEqual(['What is 12 * 3?', '36', 'Done: 36. TERMINATE']);
  });
});
