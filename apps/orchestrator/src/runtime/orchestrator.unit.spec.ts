import { Registry } from 'prom-client';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createToolRegistry,
  defineTool,
  ModelCallError,
  singleModelClient,
  teamSpecSchema,
  type ModelClient,
  type SessionCommand,
} from '@agentledger/agents';
import { createInMemoryEventStore } from '@agentledger/events';
import { createInProcessEventBus, createOutboxRelay, quietLogger } from '@agentledger/events/bus';
import { createInMemorySessionIndex, createSessionEngine } from '@agentledger/sessions';
import { recordingCalls } from '@agentledger/sessions/testing';
import { eventually } from '@agentledger/testing';
import { toolThenAnswerModel } from '../testing/tool-then-answer.ts';
import { createOrchestratorMetrics } from './metrics.ts';
import { createOrchestrator, type OrchestratorSettings } from './orchestrator.ts';

const spec = teamSpecSchema.parse({
  specVersion: 1,
  name: 'ledger-team',
  type: 'single',
  agents: [{ name: 'clerk', tools: ['ledger'] }],
});

const settings: OrchestratorSettings = {
  replicaId: 'replica-1',
  groupId: 'orchestrator-test',
  maxConcurrentSessions: 50,
  maxModelCalls: 4,
  maxToolCalls: 8,
  leaseTtlMs: 5_000,
  recoveryIntervalMs: 200,
  stallAfterMs: 60_000,
  shutdownDeadlineMs: 2_000,
};

const meta = (id: string) => ({ commandId: id, correlationId: id, now: new Date('2026-01-01T00:00:00Z') });

type LedgerTraits = Readonly<{ idempotent: boolean; requiresApproval: boolean }>;

const world = (
  model: ModelClient,
  overrides: Partial<OrchestratorSettings> = {},
  traits: LedgerTraits = { idempotent: true, requiresApproval: false },
  /** The effects' clock (fixed unless a test measures deadlines, which run on real time). */
  clock: () => Date = () => new Date('2026-01-01T00:00:00Z'),
) => {
  const store = createInMemoryEventStore();
  const index = createInMemorySessionIndex();
  const bus = createInProcessEventBus({ partitions: 12 });
  const repository = createSessionEngine({ store, index, partitions: 12 });
  const executions = new Map<string, number>();
  const ledger = defineTool({
    name: 'ledger',
    description: 'Writes a ledger entry',
    parameters: z.object({ text: z.string() }),
    ...traits,
    execute: ({ text }, ctx) => {
      executions.set(ctx.idempotencyKey, (executions.get(ctx.idempotencyKey) ?? 0) + 1);
      return `recorded ${text}`;
    },
  });
  const tools = createToolRegistry([ledger]);
  const relay = createOutboxRelay({ store, bus, idlePollMs: 5 });
  /** Another runtime on the same store, index and bus (a second process); `wrap` instruments its ports. */
  const runtime = (
    registry = new Registry(),
    wrap: Readonly<{ index?: typeof index; engine?: typeof repository }> = {},
  ) =>
    createOrchestrator({
      bus,
      engine: wrap.engine ?? repository,
      index: wrap.index ?? index,
      effects: { models: singleModelClient(model), tools, clock },
      metrics: createOrchestratorMetrics(registry),
      logger: quietLogger,
      settings: { ...settings, ...overrides },
      clock: () => new Date(),
    });
  const orchestrator = runtime();
  const send = (command: SessionCommand, sessionId: string) =>
    repository.handle(command, { tenantId: 'tenant-a', sessionId: sessionId });
  const startAndPost = async (sessionId: string, content: string) => {
    await send(
      {
        type: 'StartSession',
        data: { sessionId, tenantId: 'tenant-a', teamId: 't', spec },
        metadata: meta(`${sessionId}-start`),
      },
      sessionId,
    );
    await send(
      {
        type: 'PostUserMessage',
        data: { messageId: `${sessionId}-m1`, content },
        metadata: meta(`${sessionId}-m1`),
      },
      sessionId,
    );
  };
  const idle = async (sessionId: string) => {
    const state = await repository.load('tenant-a', sessionId);
    return state && state.status === 'idle' && state.turnCount > 0 && !state.turn ? state : undefined;
  };
  return {
    store,
    bus,
    relay,
    orchestrator,
    runtime,
    index,
    repository,
    executions,
    send,
    startAndPost,
    idle,
  };
};

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** Starts the world's relay and `orchestrator` (the world's own, or one built by `w.runtime`). */
const running = async (w: ReturnType<typeof world>, orchestrator = w.orchestrator) => {
  w.relay.start();
  await orchestrator.start();
  cleanups.push(async () => {
    await orchestrator.stop();
    await w.relay.stop();
    await w.bus.close();
  });
  await eventually('partition assignment', () => (orchestrator.ready() ? true : undefined));
};

describe('orchestrator runtime (in-process bus, in-memory store)', () => {
  it('steps a session once per user message and keeps its lease across a busy session’s turns', async () => {
    const w = world(toolThenAnswerModel());
    const calls = { acquire: 0, release: 0, step: 0 };
    const index = {
      ...w.index,
      acquire: (...args: Parameters<typeof w.index.acquire>) => (calls.acquire++, w.index.acquire(...args)),
      release: (...args: Parameters<typeof w.index.release>) => (calls.release++, w.index.release(...args)),
    };
    const engine = {
      ...w.repository,
      step: (...args: Parameters<typeof w.repository.step>) => (calls.step++, w.repository.step(...args)),
    };
    const orchestrator = w.runtime(new Registry(), { index, engine });
    await running(w, orchestrator);
    await w.startAndPost('busy', 'turn 1');
    await eventually('the first turn', () => w.idle('busy'));
    for (let turn = 2; turn <= 4; turn += 1) {
      await w.send(
        {
          type: 'PostUserMessage',
          data: { messageId: `busy-m${turn}`, content: `turn ${turn}` },
          metadata: meta(`busy-m${turn}`),
        },
        'busy',
      );
      await eventually(`turn ${turn}`, async () => {
        const state = await w.idle('busy');
        return state && state.turnCount === turn ? state : undefined;
      });
    }
    // The start and each message's events (received, turn started) each brought one run, not one per event.
    expect(calls.step).toBeLessThanOrEqual(5);
    expect(calls.acquire).toBe(1);
    expect(calls.release).toBe(0);
    await orchestrator.stop();
    expect((await w.index.get('tenant-a', 'busy'))?.leaseOwner).toBeNull();
  });

  it('keeps a lease between turns for leaseLingerMs: a session whose turns come 1.5 s apart is acquired once', async () => {
    const w = world(toolThenAnswerModel(), { leaseLingerMs: 5_000, leaseTtlMs: 15_000 });
    const calls = { acquire: 0, release: 0 };
    const index = {
      ...w.index,
      acquire: (...args: Parameters<typeof w.index.acquire>) => (calls.acquire++, w.index.acquire(...args)),
      release: (...args: Parameters<typeof w.index.release>) => (calls.release++, w.index.release(...args)),
    };
    const orchestrator = w.runtime(new Registry(), { index });
    await running(w, orchestrator);
    await w.startAndPost('slow', 'turn 1');
    await eventually('the first turn', () => w.idle('slow'));
    // Past the default linger (1 s): without the setting the lease would be released and re-taken.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await w.send(
      {
        type: 'PostUserMessage',
        data: { messageId: 'slow-m2', content: 'turn 2' },
        metadata: meta('slow-m2'),
      },
      'slow',
    );
    await eventually('the second turn', async () => {
      const state = await w.idle('slow');
      return state && state.turnCount === 2 ? state : undefined;
    });
    expect(calls).toEqual({ acquire: 1, release: 0 });
    await orchestrator.stop();
  });

  it('starts a run from its cached session while its lease is unbroken, and takes in what a gateway elsewhere appended as delivered', async () => {
    const w = world(toolThenAnswerModel());
    const counted = recordingCalls(w.store, 'readStream');
    const engine = createSessionEngine({ store: counted.store, index: w.index, partitions: 12 });
    const orchestrator = w.runtime(new Registry(), { engine });
    await running(w, orchestrator);
    const post = (via: typeof engine, turn: number) =>
      via.handle(
        {
          type: 'PostUserMessage',
          data: { messageId: `m${turn}`, content: `turn ${turn}` },
          metadata: meta(`m${turn}`),
        },
        { tenantId: 'tenant-a', sessionId: 'kept' },
      );
    const turnDone = (turn: number) =>
      eventually(`turn ${turn}`, async () => {
        const state = await w.idle('kept');
        return state && state.turnCount === turn ? state : undefined;
      });
    await engine.handle(
      {
        type: 'StartSession',
        data: { sessionId: 'kept', tenantId: 'tenant-a', teamId: 't', spec },
        metadata: meta('start'),
      },
      { tenantId: 'tenant-a', sessionId: 'kept' },
    );
    await post(engine, 1);
    await turnDone(1);
    // A message through the worker's own engine (a gateway in the process): nothing reads, the
    // post decides on the session the worker keeps cached under its lease.
    counted.calls.length = 0;
    await post(engine, 2);
    await turnDone(2);
    expect(counted.calls).toHaveLength(0);
    // A message through another engine (a gateway elsewhere) is delivered: the bus hands the event
    // as stored, it continues the cached session (its hash checked), and nothing reads it back.
    counted.calls.length = 0;
    await post(w.repository, 3);
    const done = await turnDone(3);
    expect(counted.calls).toHaveLength(0);
    expect(done.messages.map((message) => message.content)).toContain('turn 3');
  });

  it('runs turns with a tool call to the end, executing each tool call once', async () => {
    const w = world(toolThenAnswerModel());
    await running(w);
    await Promise.all(Array.from({ length: 20 }, (_, i) => w.startAndPost(`s${i}`, `task ${i}`)));
    for (let i = 0; i < 20; i += 1) {
      const state = await eventually(`session s${i} to finish its turn`, () => w.idle(`s${i}`));
      expect(state.messages.at(-1)?.content).toContain(`recorded task ${i}`);
    }
    expect(w.executions.size).toBe(20);
    expect([...w.executions.values()].every((count) => count === 1)).toBe(true);
  });

  it('runs an approved non-idempotent tool once, instead of recording it unknown-outcome', async () => {
    const w = world(toolThenAnswerModel(), {}, { idempotent: false, requiresApproval: true });
    await running(w);
    await w.startAndPost('approved', 'refund');
    const waiting = await eventually('the approval request', async () => {
      const state = await w.repository.load('tenant-a', 'approved');
      return state?.status === 'awaiting_approval' ? state : undefined;
    });
    const [toolCallId] = Object.keys(waiting.toolCalls);
    await w.send(
      { type: 'DecideApproval', data: { toolCallId: toolCallId!, approve: true }, metadata: meta('approve') },
      'approved',
    );
    const state = await eventually('the approved turn to finish', () => w.idle('approved'));
    expect(state.messages.at(-1)?.content).toContain('recorded refund');
    const events = await w.store.readStream('session-tenant-a/approved', { tenantId: 'tenant-a' });
    expect(events.filter((e) => e.type === 'ToolCallFailed')).toEqual([]);
    expect(events.filter((e) => e.type === 'ToolCallCompleted')).toHaveLength(1);
    expect([...w.executions.values()]).toEqual([1]);
  });

  it('keeps model calls within the replica bound', async () => {
    let inFlight = 0;
    let peak = 0;
    const model = toolThenAnswerModel({
      delayMs: () => 20,
      onCall: () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        setTimeout(() => (inFlight -= 1), 20);
      },
    });
    const w = world(model, { maxModelCalls: 2 });
    await running(w);
    await Promise.all(Array.from({ length: 12 }, (_, i) => w.startAndPost(`b${i}`, `task ${i}`)));
    for (let i = 0; i < 12; i += 1) await eventually(`session b${i}`, () => w.idle(`b${i}`));
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBeGreaterThan(0);
  });

  it('parks a session on a retryable model failure and resumes it, recording no failure', async () => {
    let failures = 2;
    const inner = toolThenAnswerModel();
    const flaky: ModelClient = {
      complete: async (request, options) => {
        if (failures > 0) {
          failures -= 1;
          throw new ModelCallError('rate_limited', '429 Too Many Requests', true, 429);
        }
        return inner.complete(request, options);
      },
    };
    const w = world(flaky);
    await running(w);
    await w.startAndPost('parked', 'task');
    const state = await eventually('the parked session to finish', () => w.idle('parked'), {
      timeoutMs: 10_000,
    });
    expect(state.messages.at(-1)?.content).toContain('recorded task');
    const events = await w.store.readStream('session-tenant-a/parked', { tenantId: 'tenant-a' });
    expect(events.filter((e) => e.type === 'ModelCallFailed')).toEqual([]);
    expect(failures).toBe(0);
  });

  it('records the failure once a retryable error outlasts its parks', async () => {
    const failing: ModelClient = {
      complete: () => Promise.reject(new ModelCallError('server_error', '500', true, 500)),
    };
    const w = world(failing, { maxModelParks: 1 });
    await running(w);
    await w.startAndPost('doomed', 'task');
    await eventually('the failure to be recorded', async () => {
      const events = await w.store.readStream('session-tenant-a/doomed', { tenantId: 'tenant-a' });
      return events.some((e) => e.type === 'ModelCallFailed') ? true : undefined;
    });
  });

  it('marks a session without progress stalled, visibly, and re-queues it once', async () => {
    const hanging: ModelClient = {
      complete: (_request, { signal }) =>
        new Promise((_, reject) =>
          signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
        ),
    };
    const w = world(hanging, { stallAfterMs: 50, recoveryIntervalMs: 60_000 });
    await running(w);
    await w.startAndPost('stuck', 'task');
    await eventually('the session to be running', async () =>
      (await w.repository.load('tenant-a', 'stuck'))?.status === 'running' ? true : undefined,
    );
    await eventually('the watchdog to mark it stalled', async () => {
      await w.orchestrator.sweep();
      const events = await w.store.readStream('session-tenant-a/stuck', { tenantId: 'tenant-a' });
      return events.some((e) => e.type === 'SessionStalled') ? events : undefined;
    });
    expect((await w.repository.load('tenant-a', 'stuck'))?.status).toBe('stalled');
  });

  it('fences per process: a runtime started with the same replica id neither shares nor releases leases', async () => {
    let calls = 0;
    const hanging: ModelClient = {
      complete: (_request, { signal }) => {
        calls += 1;
        return new Promise((_, reject) =>
          signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
        );
      },
    };
    const w = world(hanging, { recoveryIntervalMs: 60_000 });
    const twin = w.runtime();
    cleanups.push(() => twin.stop());
    await w.startAndPost('held', 'task');
    twin.schedule('tenant-a', 'held');
    const held = await eventually('the twin to hold the lease and call the model', async () => {
      const row = await w.index.get('tenant-a', 'held');
      return calls === 1 && row?.leaseOwner ? row : undefined;
    });
    await w.orchestrator.start();
    w.orchestrator.schedule('tenant-a', 'held');
    await w.orchestrator.stop();
    expect(await w.index.get('tenant-a', 'held')).toMatchObject({
      leaseOwner: held.leaseOwner,
      leaseEpoch: held.leaseEpoch,
    });
    expect(calls).toBe(1);
  });

  const startWith = async (w: ReturnType<typeof world>, sessionId: string, fields: object) => {
    const team = teamSpecSchema.parse({ ...spec, ...fields });
    await w.send(
      {
        type: 'StartSession',
        data: { sessionId, tenantId: 'tenant-a', teamId: 't', spec: team },
        metadata: { ...meta(`${sessionId}-start`), now: new Date() },
      },
      sessionId,
    );
    await w.send(
      {
        type: 'PostUserMessage',
        data: { messageId: `${sessionId}-m1`, content: 'task' },
        metadata: { ...meta(`${sessionId}-m1`), now: new Date() },
      },
      sessionId,
    );
  };
  const eventsOf = (w: ReturnType<typeof world>, sessionId: string) =>
    w.store.readStream(`session-tenant-a/${sessionId}`, { tenantId: 'tenant-a' });

  it('ends a turn waiting on a hanging model at its timeout and aborts the call', async () => {
    let aborted = 0;
    const hanging: ModelClient = {
      complete: (_request, { signal }) =>
        new Promise((_, reject) =>
          signal?.addEventListener('abort', () => (aborted++, reject(new Error('aborted'))), { once: true }),
        ),
    };
    const w = world(hanging, {}, undefined, () => new Date());
    await running(w);
    await startWith(w, 'hung', { limits: { turnTimeoutSeconds: 1 } });
    const events = await eventually('the call aborted after the timeout', async () => {
      const stream = await eventsOf(w, 'hung');
      return stream.some((e) => e.type === 'ModelCallFailed') ? stream : undefined;
    });
    expect(events.map((e) => e.type).slice(-2)).toEqual(['TurnCompleted', 'ModelCallFailed']);
    expect(events.at(-2)?.data).toMatchObject({ reason: 'Timeout of 1 seconds reached' });
    expect(events.at(-1)?.data).toMatchObject({ error: { type: 'aborted' } });
    expect(aborted).toBe(1);
  }, 20_000);

  /** A world whose tool needs approval, on real time, with its relay and a first replica running. */
  const approvalsOnRealTime = async () => {
    const w = world(
      toolThenAnswerModel(),
      {},
      { idempotent: true, requiresApproval: true },
      () => new Date(),
    );
    const first = w.runtime();
    w.relay.start();
    cleanups.push(async () => {
      await w.relay.stop();
      await w.bus.close();
    });
    await first.start();
    return { w, first };
  };

  it('denies an unanswered approval at its deadline on the replica that comes up after a restart', async () => {
    const { w, first } = await approvalsOnRealTime();
    await startWith(w, 'unanswered', { approvals: { timeoutSeconds: 3 } });
    await eventually('the approval request', async () =>
      (await w.repository.load('tenant-a', 'unanswered'))?.status === 'awaiting_approval' ? true : undefined,
    );
    // Its timer goes with it: only the next replica's sweep (on assignment) can arm the deadline.
    await first.stop();
    expect((await w.repository.load('tenant-a', 'unanswered'))?.status).toBe('awaiting_approval');
    const second = w.runtime();
    cleanups.push(() => second.stop());
    await second.start();
    const denied = await eventually(
      'the approval denied at its deadline',
      async () => (await eventsOf(w, 'unanswered')).find((e) => e.type === 'ToolApprovalDenied'),
      { timeoutMs: 20_000 },
    );
    expect(denied.data).toMatchObject({ timedOut: true });
    await eventually('the turn to end', () => w.idle('unanswered'));
    expect(w.executions.size).toBe(0);
  }, 30_000);

  it("denies an approval past its deadline whose partition's owner is dead but still in the group", async () => {
    const { w, first } = await approvalsOnRealTime();
    const ids = Array.from({ length: 12 }, (_, i) => `orphaned-approval-${i}`);
    for (const id of ids) await startWith(w, id, { approvals: { timeoutSeconds: 4 } });
    for (const id of ids)
      await eventually(`${id} to wait for its approval`, async () =>
        (await w.repository.load('tenant-a', id))?.status === 'awaiting_approval' ? true : undefined,
      );
    await first.stop();
    // A member that owns partitions and does nothing: a replica that died before the group noticed.
    const zombie = await w.bus.subscribe(settings.groupId, () => Promise.resolve());
    cleanups.push(() => zombie.stop());
    await eventually('the dead member to own every partition', () =>
      zombie.assignment().length === 12 ? true : undefined,
    );
    const second = w.runtime();
    cleanups.push(() => second.stop());
    await second.start();
    await eventually('the partitions split between the dead member and the live one', () =>
      second.partitions().length > 0 && zombie.assignment().length > 0 ? true : undefined,
    );
    const partitionOf = async (id: string) => (await w.index.get('tenant-a', id))?.partition;
    const stranded: string[] = [];
    for (const id of ids) if (zombie.assignment().includes((await partitionOf(id))!)) stranded.push(id);
    // The sessions only the dead member could have armed: the live one must fire them itself.
    expect(stranded.length).toBeGreaterThan(0);
    for (const id of stranded) {
      const denied = await eventually(
        `${id}'s approval denied at its deadline by the live replica`,
        async () => (await eventsOf(w, id)).find((e) => e.type === 'ToolApprovalDenied'),
        { timeoutMs: 20_000 },
      );
      expect(denied.data).toMatchObject({ timedOut: true });
    }
    expect(w.executions.size).toBe(0);
  }, 60_000);

  it('fails model calls closed once the tenant has used its daily token budget', async () => {
    const w = world(toolThenAnswerModel(), { tenantDailyTokenBudget: 10 });
    await running(w);
    await w.startAndPost('first', 'task');
    await eventually('the first session to finish', () => w.idle('first'));
    await w.startAndPost('second', 'task');
    const events = await eventually('the second session to fail closed', async () => {
      const stream = await w.store.readStream('session-tenant-a/second', { tenantId: 'tenant-a' });
      return stream.some((e) => e.type === 'TurnFailed') ? stream : undefined;
    });
    const failed = events.find((e) => e.type === 'ModelCallFailed');
    expect(failed?.data).toMatchObject({ error: { type: 'tenant_budget_exhausted', retryable: false } });
    expect(events.some((e) => e.type === 'ModelCallCompleted')).toBe(false);
  });

  it('does not let a slow model call of one session delay the others', async () => {
    // The slow session's model calls wait for the test, not for a clock: the others must all
    // finish while it is held, however loaded the machine.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let slowCalls = 0;
    const answers = toolThenAnswerModel();
    const w = world({
      complete: async (request, options) => {
        if (request.messages.some((m) => m.content === 'slow')) {
          slowCalls += 1;
          await held;
        }
        return answers.complete(request, options);
      },
    });
    await running(w);
    await w.startAndPost('slow-1', 'slow');
    await eventually('the slow model call to be held', () => (slowCalls > 0 ? true : undefined));
    await Promise.all(Array.from({ length: 10 }, (_, i) => w.startAndPost(`fast-${i}`, `fast ${i}`)));
    for (let i = 0; i < 10; i += 1) await eventually(`fast-${i}`, () => w.idle(`fast-${i}`));
    expect(await w.idle('slow-1')).toBeUndefined();
    release();
    await eventually('the slow session', () => w.idle('slow-1'));
  });

  it('reports the partitions it owns, which move when a replica joins and leaves', async () => {
    const w = world(toolThenAnswerModel());
    const owned = async (registry: Registry): Promise<string[]> => {
      const gauge = await registry.getSingleMetric('agentledger_partitions_owned')?.get();
      return (gauge?.values ?? []).filter((v) => v.value === 1).map((v) => String(v.labels['partition']));
    };
    const registries = [new Registry(), new Registry()] as const;
    const [first, second] = registries.map((registry) => w.runtime(registry));
    await first!.start();
    cleanups.push(() => first!.stop());
    await eventually('the first replica to own every partition', async () =>
      (await owned(registries[0])).length === 12 ? true : undefined,
    );
    await second!.start();
    const split = await eventually('the partitions to be split between both', async () => {
      const [a, b] = [await owned(registries[0]), await owned(registries[1])];
      return a.length > 0 && b.length > 0 && a.length + b.length === 12 ? [a, b] : undefined;
    });
    expect(new Set(split.flat()).size).toBe(12);
    await first!.stop();
    await eventually('the second replica to own every partition again', async () =>
      (await owned(registries[1])).length === 12 ? true : undefined,
    );
    await second!.stop();
    expect(await owned(registries[1])).toEqual([]);
  });
});
