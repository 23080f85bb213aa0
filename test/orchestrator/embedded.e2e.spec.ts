import { Registry } from 'prom-client';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createToolRegistry,
  defineTool,
  singleModelClient,
  teamSpecSchema,
  type CommandMetadata,
} from '@agentledger/agents';
import { createInProcessEventBus, createOutboxRelay, quietLogger } from '@agentledger/events/bus';
import { createPgliteEventStore, type PgliteEventStore } from '@agentledger/events/pglite';
import { createOrchestrator, createOrchestratorMetrics, type Orchestrator } from '@agentledger/orchestrator';
import { assertStoredSessionsReplay, createSessionEngine, type SessionEngine } from '@agentledger/sessions';
import { createSqlSessionIndex } from '@agentledger/sessions/sql';
import { eventually } from '@agentledger/testing';
import { toolThenAnswerModel } from '../../apps/orchestrator/src/testing/tool-then-answer.ts';

// The embedded mode of `npm start`: the same orchestrator runtime in one process on PGlite and the
// in-process bus, running the scale scenario (sessions × 3 turns, a tool call per turn).
describe('embedded mode: one process, PGlite, in-process bus', () => {
  const TENANT = 'tenant-embedded';
  const sessions = Array.from({ length: 50 }, (_, i) => `emb-${i}`);
  const executions = new Map<string, number>();
  let store: PgliteEventStore;
  let repository: SessionEngine;
  let orchestrator: Orchestrator;
  let stopRelay: () => Promise<void>;
  let commands = 0;
  const meta = (): CommandMetadata => ({
    commandId: `c${++commands}`,
    correlationId: `c${commands}`,
    now: new Date(),
  });

  beforeAll(async () => {
    store = await createPgliteEventStore({});
    const index = createSqlSessionIndex(store.db);
    repository = createSessionEngine({ store, index, partitions: 12 });
    const bus = createInProcessEventBus({ partitions: 12 });
    const relay = createOutboxRelay({ store, bus, idlePollMs: 5 });
    const ledger = defineTool({
      name: 'ledger',
      description: 'Records a line',
      parameters: z.object({ text: z.string() }),
      idempotent: true,
      requiresApproval: false,
      execute: ({ text }, ctx) => {
        executions.set(ctx.idempotencyKey, (executions.get(ctx.idempotencyKey) ?? 0) + 1);
        return `ledger ${text}`;
      },
    });
    const tools = createToolRegistry([ledger]);
    orchestrator = createOrchestrator({
      bus,
      engine: repository,
      index,
      effects: {
        // A message starting "hang" gets no answer for a minute (until its call is aborted).
        models: singleModelClient(
          toolThenAnswerModel({
            delayMs: (request) => (String(request.messages.at(-1)?.content).startsWith('hang') ? 60_000 : 0),
          }),
        ),
        tools,
        clock: () => new Date(),
      },
      metrics: createOrchestratorMetrics(new Registry()),
      logger: quietLogger,
      clock: () => new Date(),
      settings: {
        replicaId: 'embedded',
        groupId: 'agentledger-orchestrator',
        maxConcurrentSessions: 16,
        maxModelCalls: 8,
        maxToolCalls: 8,
        leaseTtlMs: 15_000,
        recoveryIntervalMs: 1_000,
        stallAfterMs: 300_000,
        shutdownDeadlineMs: 5_000,
      },
    });
    relay.start();
    await orchestrator.start();
    stopRelay = async () => {
      await relay.stop();
      await bus.close();
    };
  });

  afterAll(async () => {
    await orchestrator?.stop();
    await stopRelay?.();
    try {
      // Every session this suite produced replays to the same decisions.
      if (store !== undefined) await assertStoredSessionsReplay(store);
    } finally {
      await store?.close();
    }
  });

  it('completes every turn with contiguous histories and each tool call executed once', async () => {
    const spec = teamSpecSchema.parse({
      specVersion: 1,
      name: 'ledger-team',
      type: 'single',
      agents: [{ name: 'clerk', tools: ['ledger'] }],
    });
    for (const id of sessions) {
      await repository.handle(
        {
          type: 'StartSession',
          data: { sessionId: id, tenantId: TENANT, teamId: 'ledger-team', spec },
          metadata: meta(),
        },
        { tenantId: TENANT, sessionId: id },
      );
    }
    for (const turn of [1, 2, 3]) {
      for (const id of sessions) {
        await repository.handle(
          {
            type: 'PostUserMessage',
            data: { messageId: `${id}:${turn}`, content: `turn ${turn} of ${id}` },
            metadata: meta(),
          },
          { tenantId: TENANT, sessionId: id },
        );
      }
      await eventually(
        `turn ${turn} of every session`,
        async () => {
          const { rows } = await store.pglite.query<{ n: number }>(
            `select count(*)::int as n from (select stream_id from events where type = 'TurnCompleted'
             group by stream_id having count(*) >= $1) done`,
            [turn],
          );
          return rows[0]!.n === sessions.length ? true : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 100 },
      );
    }
    const { rows: gaps } = await store.pglite.query(
      `select stream_id from events group by stream_id having max(version) <> count(*)`,
    );
    expect(gaps).toEqual([]);
    expect(executions.size).toBe(sessions.length * 3);
    expect([...executions.values()].every((count) => count === 1)).toBe(true);
    const state = await repository.load(TENANT, 'emb-3');
    expect(state?.messages.at(-1)?.content).toContain('ledger turn 3 of emb-3');
  });

  it('ends a turn whose model call hangs at the turn timeout, as the distributed mode does', async () => {
    const spec = teamSpecSchema.parse({
      specVersion: 1,
      name: 'ledger-team',
      type: 'single',
      agents: [{ name: 'clerk', tools: ['ledger'] }],
      limits: { turnTimeoutSeconds: 2 },
    });
    const ref = { tenantId: TENANT, sessionId: 'emb-hang' };
    await repository.handle(
      { type: 'StartSession', data: { ...ref, teamId: 'ledger-team', spec }, metadata: meta() },
      ref,
    );
    await repository.handle(
      { type: 'PostUserMessage', data: { messageId: 'hang-1', content: 'hang on' }, metadata: meta() },
      ref,
    );
    const events = await eventually(
      'the hanging call aborted after the timeout',
      async () => {
        const { rows } = await store.pglite.query<{ type: string; data: Record<string, unknown> }>(
          'select type, data from events where stream_id = $1 order by version',
          [`session-${TENANT}/emb-hang`],
        );
        return rows.some((r) => r.type === 'ModelCallFailed') ? rows : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const started = events.find((e) => e.type === 'TurnStarted')!;
    const completed = events.find((e) => e.type === 'TurnCompleted')!;
    expect(completed.data).toMatchObject({ reason: 'Timeout of 2 seconds reached' });
    const seconds = (Date.parse(String(completed.data.at)) - Date.parse(String(started.data.at))) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(seconds).toBeLessThanOrEqual(3);
    expect(events.at(-1)).toMatchObject({ type: 'ModelCallFailed', data: { error: { type: 'aborted' } } });
  });
});
