import { z } from 'zod';
import { describe, expect, it, vi } from 'vitest';
import {
  builtinTools,
  createScriptedModelClient,
  createToolRegistry,
  defineTool,
  TurnAborted,
  type EffectDeps,
  type ModelClient,
  type TeamSpec,
  type ToolRegistry,
} from '@agentledger/agents';
import { spec } from '@agentledger/agents/testing';
import { createInMemoryEventStore, sessionStreamId, Unavailable } from '@agentledger/events';
import { createInMemorySessionIndex } from '../memory/memory-session-index.ts';
import { recordingCalls, postMessage, startSession } from '../testing/fixtures.ts';
import { createSessionEngine, type SessionEngineDeps } from './session-engine.ts';
import type { StepHooks } from './session-step.ts';

const ref = { tenantId: 'tenant-a', sessionId: 's1' };
const clock = () => new Date('2026-01-01T00:00:00Z');
const answer = (content: string) => ({
  content,
  toolCalls: [],
  usage: { promptTokens: 1, completionTokens: 1 },
  finishReason: 'stop' as const,
});

/**
 * An engine whose session `s1` has a message waiting for the model: a one-agent team without tools
 * unless `team` (and the `tools` it names) are given; `store` and the other engine deps as given.
 */
const setup = async (
  model: ModelClient,
  hooks?: StepHooks,
  {
    team,
    tools = builtinTools(),
    store = createInMemoryEventStore(),
    ...extra
  }: Partial<SessionEngineDeps<unknown>> & { team?: TeamSpec; tools?: ToolRegistry } = {},
) => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const index = createInMemorySessionIndex(() => now);
  const effects: Omit<EffectDeps, 'signal'> = { models: () => model, tools, clock };
  const engine = createSessionEngine({
    store,
    index,
    partitions: 12,
    effects,
    ...(hooks ? { hooks } : {}),
    ...extra,
  });
  await engine.handle(startSession('s1', 'tenant-a', team), ref);
  await engine.handle(postMessage('m1', 'hello'), ref);
  const events = () => store.readStream(sessionStreamId('tenant-a', 's1'), { tenantId: 'tenant-a' });
  const types = async () => (await events()).map((e) => e.type);
  return { engine, index, store, events, types, advance: (ms: number) => (now += ms) };
};

/** A team whose agent's one answer calls `charge`: not idempotent, so a restart may not run it again. */
const charging = () => {
  const runs: string[] = [];
  const charge = defineTool({
    name: 'charge',
    description: 'Charges a card',
    parameters: z.object({}),
    idempotent: false,
    requiresApproval: false,
    execute: (_args, ctx) => (runs.push(ctx.toolCallId), 'charged'),
  });
  return {
    runs,
    team: spec({ type: 'single', agents: [{ name: 'a', tools: ['charge'] }] }),
    tools: createToolRegistry([charge]),
    model: createScriptedModelClient({ script: [{ toolCalls: [{ name: 'charge', arguments: '{}' }] }] }),
  };
};

const signal = () => new AbortController().signal;

describe('session step', () => {
  it('records the result a hook gives instead of calling the model', async () => {
    const complete = vi.fn(async () => answer('never'));
    const { engine, types } = await setup(
      { complete },
      {
        beforeModelCall: async ({ action, state }) => ({
          type: 'RecordModelCall',
          data: {
            callId: action.callId,
            outcome: 'failed',
            error: { type: 'tenant_budget_exhausted', message: 'spent', retryable: false },
            latencyMs: 0,
          },
          metadata: { commandId: 'budget', correlationId: state.sessionId, now: clock() },
        }),
      },
    );
    const outcome = await engine.step(ref, undefined, signal());
    expect(complete).not.toHaveBeenCalled();
    expect(await types()).toContain('ModelCallFailed');
    expect(outcome.state?.status).toBe('failed');
  });

  it('counts the prompt and completion tokens of the answer it records into the tenant’s usage of the day', async () => {
    const { engine, index } = await setup({
      complete: async () => ({ ...answer('done'), usage: { promptTokens: 7, completionTokens: 3 } }),
    });
    const outcome = await engine.step(ref, undefined, signal());
    expect(outcome.state?.messages.at(-1)?.content).toBe('done');
    expect(await index.tenantTokensToday('tenant-a')).toBe(10);
  });

  it('stamps the hooks’ metadata and the command’s correlation id on the events a step appends', async () => {
    const { engine, events } = await setup(
      { complete: async () => answer('done') },
      { metadata: { actor: 'worker', replicaId: 'replica-1' } },
    );
    const before = (await events()).length;
    await engine.step(ref, undefined, signal());
    const appended = (await events()).slice(before);
    expect(appended.length).toBeGreaterThan(0);
    expect(appended.map((e) => e.metadata)).toEqual(
      appended.map(() =>
        expect.objectContaining({ actor: 'worker', replicaId: 'replica-1', correlationId: 's1:t1' }),
      ),
    );
  });

  it('parks the session on a retryable model failure when the host says so, recording nothing', async () => {
    const model = createScriptedModelClient({
      script: [{ error: { type: 'server_error', message: '503', retryable: true } }],
    });
    const park = vi.fn(() => 5_000);
    const { engine, types } = await setup(model, { park });
    const before = await types();
    const outcome = await engine.step(ref, undefined, signal());
    expect(outcome).toMatchObject({ status: 'parked', delayMs: 5_000, steps: 0 });
    expect(park).toHaveBeenCalledWith(expect.objectContaining({ tenantId: 'tenant-a', sessionId: 's1' }));
    expect(await types()).toEqual(before);
  });

  it('records a retryable model failure when the host does not park it', async () => {
    const model = createScriptedModelClient({
      script: [{ error: { type: 'server_error', message: '503', retryable: true } }],
    });
    const { engine, types } = await setup(model, { park: () => undefined });
    const outcome = await engine.step(ref, undefined, signal());
    expect(outcome.status).toBe('idle');
    expect(outcome).not.toHaveProperty('delayMs');
    expect(await types()).toContain('ModelCallFailed');
  });

  it.each([
    ['a completed answer', { script: [{ content: 'done' }] }, 'ModelCallCompleted'],
    [
      'a failure that is not retryable',
      { script: [{ error: { type: 'invalid_request', message: 'bad', retryable: false } }] },
      'ModelCallFailed',
    ],
  ])('never parks %s: the host is not asked and the result is recorded', async (_name, script, recorded) => {
    const park = vi.fn(() => 5_000);
    const { engine, types } = await setup(createScriptedModelClient(script), { park });
    const outcome = await engine.step(ref, undefined, signal());
    expect(park).not.toHaveBeenCalled();
    expect(outcome.status).toBe('idle');
    expect(await types()).toContain(recorded);
  });

  it('records nothing for a tool call whose host hook gives no result, and goes on without it', async () => {
    const { runs, team, tools, model } = charging();
    const aroundToolCall = vi.fn(async () => null);
    const { engine, types } = await setup(model, { aroundToolCall }, { team, tools });
    const outcome = await engine.step(ref, undefined, signal());
    expect(aroundToolCall).toHaveBeenCalledOnce();
    expect(runs).toEqual([]);
    expect(await types()).not.toContain('ToolCallCompleted');
    expect(await types()).not.toContain('ToolCallFailed');
    // The model's answer is one step; the tool call that recorded nothing ends the loop idle.
    expect(outcome).toMatchObject({ status: 'idle', steps: 2 });
  });

  it('ends `lost` and writes nothing when its lease was taken by another owner', async () => {
    const { engine, index, types, advance } = await setup({ complete: async () => answer('late') });
    const stale = (await index.acquire('tenant-a', 's1', 'replica-1', 1_000))!;
    advance(2_000);
    await index.acquire('tenant-a', 's1', 'replica-2', 1_000);
    const before = await types();
    const outcome = await engine.step(ref, stale, signal());
    expect(outcome.status).toBe('lost');
    expect(await types()).toEqual(before);
  });

  it('lets an error that is not a lost lease escape', async () => {
    const boom = new Error('boom');
    const { engine } = await setup(
      { complete: async () => answer('never') },
      {
        aroundModelCall: () => Promise.reject(boom),
      },
    );
    await expect(engine.step(ref, undefined, signal())).rejects.toBe(boom);
  });

  it('refuses to step without effects, saying where to give them', async () => {
    const store = createInMemoryEventStore();
    const engine = createSessionEngine({ store, index: createInMemorySessionIndex(), partitions: 12 });
    await engine.handle(startSession('s1'), ref);
    await expect(engine.step(ref, undefined, signal())).rejects.toThrow(
      new TypeError('step needs effects: give them to the engine or to this step'),
    );
  });

  it.each([
    { when: 'its signal is already aborted', signal: AbortSignal.abort(), keepGoing: () => true },
    { when: 'the host says not to keep going', signal: new AbortController().signal, keepGoing: () => false },
  ])('ends `aborted` before the first step, calling no model, when $when', async ({ signal, keepGoing }) => {
    let calls = 0;
    const { engine, types } = await setup({
      complete: async () => {
        calls += 1;
        return answer('never');
      },
    });
    const before = await types();
    const outcome = await engine.step(ref, undefined, signal, { keepGoing });
    expect(outcome).toMatchObject({ status: 'aborted', steps: 0 });
    expect(calls).toBe(0);
    expect(await types()).toEqual(before);
  });

  it('drops a result that arrives after shutdown aborted the step', async () => {
    const controller = new AbortController();
    const { engine, types } = await setup({
      complete: async () => {
        controller.abort();
        return answer('too late');
      },
    });
    const before = await types();
    const outcome = await engine.step(ref, undefined, controller.signal);
    expect(outcome).toMatchObject({ status: 'aborted', steps: 0 });
    expect(await types()).toEqual(before);
  });

  it('records a call cut short by its turn being cancelled as aborted', async () => {
    const controller = new AbortController();
    const { engine, types } = await setup({
      complete: async () => {
        const turnId = (await engine.load('tenant-a', 's1'))?.turn?.turnId ?? '';
        controller.abort(new TurnAborted(turnId));
        throw controller.signal.reason;
      },
    });
    const outcome = await engine.step(ref, undefined, controller.signal);
    expect(outcome).toMatchObject({ status: 'aborted', steps: 0 });
    expect((await types()).at(-2)).toBe('ModelCallFailed');
    expect(outcome.state?.version).toBe((await types()).length);
  });

  it('starts from the state its caller just loaded, reading nothing before the first step', async () => {
    const counted = recordingCalls(createInMemoryEventStore(), 'readStream');
    const { engine, index } = await setup({ complete: async () => answer('done') }, undefined, {
      store: counted.store,
    });
    // A lease holder's append decides on its cached session: the only read left is the step's load.
    const lease = await index.acquire('tenant-a', 's1', 'worker', 60_000);
    const loaded = await engine.load('tenant-a', 's1');
    counted.calls.length = 0;
    const outcome = await engine.step(ref, lease, signal(), { maxSteps: 1, ...(loaded ? { loaded } : {}) });
    expect(outcome.state?.messages.at(-1)?.content).toBe('done');
    expect(counted.calls).toHaveLength(0);
    await engine.step(ref, lease, signal(), { maxSteps: 1 });
    expect(counted.calls).toHaveLength(1);
  });

  it('stops idle when a step records nothing and the session did not move', async () => {
    const { engine } = await setup(
      { complete: async () => answer('unused') },
      { aroundModelCall: () => Promise.resolve(null) },
    );
    const outcome = await engine.step(ref, undefined, signal(), { maxSteps: 5 });
    expect(outcome).toMatchObject({ status: 'idle', steps: 1 });
  });

  it('catches up and goes on when a step’s result was recorded elsewhere', async () => {
    const { engine } = await setup(
      { complete: async () => answer('recorded by the hook') },
      {
        aroundModelCall: async (run) => {
          const command = await run();
          if (command) await engine.handle(command, ref);
          return null;
        },
      },
    );
    const outcome = await engine.step(ref, undefined, signal());
    expect(outcome.status).toBe('idle');
    expect(outcome.state?.messages.map((m) => m.content)).toContain('recorded by the hook');
  });

  it('claims an attempt under its lease before a non-idempotent tool runs: refused, the call is unknown-outcome', async () => {
    const { runs, team, tools, model } = charging();
    const claimAttempt = vi.fn(async () => false);
    const { engine, index, events } = await setup(model, { claimAttempt }, { team, tools });
    const lease = (await index.acquire('tenant-a', 's1', 'replica-1', 60_000))!;
    const outcome = await engine.step(ref, lease, signal());
    expect(claimAttempt).toHaveBeenCalledExactlyOnceWith(lease, 't1.s1.m1.t0');
    expect(runs).toEqual([]);
    expect((await events()).find((e) => e.type === 'ToolCallFailed')?.data).toMatchObject({
      toolCallId: 't1.s1.m1.t0',
      reason: 'unknown-outcome',
    });
    expect(outcome.status).toBe('idle');
  });

  it('runs a non-idempotent tool reached on a later step of a resumed loop (only its first step is resumed)', async () => {
    const { runs, team, tools, model } = charging();
    const { engine, types } = await setup(model, undefined, { team, tools });
    const outcome = await engine.step(ref, undefined, signal(), { resumed: true });
    expect(runs).toEqual(['t1.s1.m1.t0']);
    expect(await types()).toContain('ToolCallCompleted');
    expect(await types()).not.toContain('ToolCallFailed');
    expect(outcome).toMatchObject({ status: 'idle', steps: 2 });
  });

  it('ends idle without counting a step when the approval hook decides nothing', async () => {
    const team = spec({
      type: 'single',
      agents: [{ name: 'a', tools: ['calculator'], approvalRequired: ['calculator'] }],
    });
    const model = createScriptedModelClient({
      script: [{ toolCalls: [{ name: 'calculator', arguments: { a: 1, b: 2, operator: '+' } }] }],
    });
    const decideApprovals = vi.fn(() => []);
    const { engine } = await setup(model, { decideApprovals }, { team });
    const outcome = await engine.step(ref, undefined, signal());
    expect(decideApprovals).toHaveBeenCalledOnce();
    // One step: the model call (its answer requests the approval); deciding nothing is no step.
    expect(outcome).toMatchObject({ status: 'idle', steps: 1 });
    expect(outcome.state?.status).toBe('awaiting_approval');
  });

  it('stops idle when the session’s stream is gone by the time a step catches up', async () => {
    const store = createInMemoryEventStore();
    let gone = false;
    const vanishing = {
      ...store,
      aggregate: ((streamId, ...rest) =>
        store.aggregate(gone ? `${streamId}-gone` : streamId, ...rest)) as typeof store.aggregate,
    };
    const { engine } = await setup(
      { complete: async () => answer('unused') },
      { aroundModelCall: () => ((gone = true), Promise.resolve(null)) },
      // No cache: the catch-up reads the store.
      { store: vanishing, cacheMaxBytes: 0 },
    );
    const outcome = await engine.step(ref, undefined, signal());
    expect(outcome).toMatchObject({ status: 'idle', steps: 1 });
    expect(outcome.state?.version).toBeGreaterThan(0);
  });

  describe('while the store is unavailable', () => {
    /**
     * The in-memory store whose next `failures` appends throw `Unavailable` once `down` is called
     * (from the model call: only recording its result meets the outage); with `committed`, each of
     * them commits first (the database took it, the answer was lost with the connection).
     */
    const flaky = ({ committed = false }: { committed?: boolean } = {}) => {
      const store = createInMemoryEventStore();
      let failures = 0;
      let appends = 0;
      const append = (async (...args: Parameters<typeof store.append>) => {
        appends += 1;
        if (failures === 0) return store.append(...args);
        failures -= 1;
        if (committed) await store.append(...args);
        throw new Unavailable('the database is unavailable; retry later');
      }) as typeof store.append;
      return {
        store: { ...store, append },
        down: (times: number) => (failures = times),
        appends: () => appends,
      };
    };

    it('records a paid answer once the store is back, calling the model once', async () => {
      const db = flaky();
      const complete = vi.fn(async () => (db.down(2), answer('paid for')));
      const { engine, types } = await setup({ complete }, undefined, { store: db.store });
      const outcome = await engine.step(ref, undefined, signal());
      expect(complete).toHaveBeenCalledTimes(1);
      expect(db.appends()).toBe(3 + 2); // start, message, then two refused tries and the one taken
      expect(outcome.state?.messages.at(-1)?.content).toBe('paid for');
      expect((await types()).filter((type) => type === 'ModelCallCompleted')).toHaveLength(1);
    });

    it('records the answer once when a refused try had committed (its acknowledgement was lost)', async () => {
      const db = flaky({ committed: true });
      const complete = vi.fn(async () => (db.down(1), answer('paid for')));
      const { engine, types } = await setup({ complete }, undefined, { store: db.store });
      const outcome = await engine.step(ref, undefined, signal());
      expect(complete).toHaveBeenCalledTimes(1);
      expect(outcome.state?.messages.at(-1)?.content).toBe('paid for');
      expect((await types()).filter((type) => type === 'ModelCallCompleted')).toHaveLength(1);
    });

    it('stops trying when its signal aborts, letting the last error escape', async () => {
      const db = flaky();
      const controller = new AbortController();
      const complete = vi.fn(async () => (db.down(Number.POSITIVE_INFINITY), answer('paid for')));
      const { engine, types } = await setup({ complete }, undefined, { store: db.store });
      const before = await types();
      const stepping = engine.step(ref, undefined, controller.signal);
      await vi.waitFor(() => expect(db.appends()).toBeGreaterThanOrEqual(2 + 2));
      controller.abort();
      await expect(stepping).rejects.toBeInstanceOf(Unavailable);
      const tries = db.appends();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(db.appends()).toBe(tries);
      expect(await types()).toEqual(before);
    });

    it('lets an error that is not Unavailable escape from the first try', async () => {
      const store = createInMemoryEventStore();
      const boom = new Error('boom');
      let failing = false;
      const append = (async (...args: Parameters<typeof store.append>) => {
        if (failing) throw boom;
        return store.append(...args);
      }) as typeof store.append;
      const complete = vi.fn(async () => ((failing = true), answer('paid for')));
      const appendSpy = vi.fn(append);
      const { engine } = await setup({ complete }, undefined, { store: { ...store, append: appendSpy } });
      const before = appendSpy.mock.calls.length;
      await expect(engine.step(ref, undefined, signal())).rejects.toBe(boom);
      expect(appendSpy.mock.calls.length - before).toBe(1);
    });
  });
});
