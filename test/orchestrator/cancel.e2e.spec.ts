import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { replayDecisions, type SessionEvent } from '@agentledger/agents';
import { eventually } from '@agentledger/testing';
import { createOrchestratorWorld, type OrchestratorWorld } from '../support/orchestrator-world.ts';
import type { OrchestratorProcess } from '../support/orchestrator-process.ts';

const SLOW_MS = 20_000;
/** Far below the 20 s call: a call that ran to its end fails the test (the latency is logged). */
const ABORT_DEADLINE_MS = 8_000;

// Issue 15 item 2: cancel, close and interrupt abort the in-flight model or tool call on the replica
// that owns the session, although the cancel is recorded by another process (here the test process,
// as the gateway does: CancelTurn appended to Postgres, relayed through Kafka to the owner).
describe('cancellation stops the spend on the owning orchestrator', () => {
  let world: OrchestratorWorld;
  let replica: OrchestratorProcess;

  beforeAll(async () => {
    world = await createOrchestratorWorld({
      adminUrl: inject('databaseUrl'),
      brokers: inject('kafkaBrokers'),
      runId: inject('runId'),
      name: 'cancel',
      modelDelayMs: (task) => (task.startsWith('slow') ? SLOW_MS : 20),
      env: { SLEEPER_MS: String(SLOW_MS) },
    });
    replica = await world.start('replica-owner');
  });

  afterAll(async () => {
    await world?.close();
  });

  const userText = (body: unknown): string => {
    const messages = (body as { messages?: { role: string; content?: unknown }[] }).messages ?? [];
    const last = messages.findLast((m) => m.role === 'user')?.content;
    return typeof last === 'string' ? last : '';
  };
  const modelCallArrived = (text: string) =>
    eventually(`the model call for "${text}" to reach the fake`, () =>
      world.fake.requests.some((r) => userText(r.body) === text) ? true : undefined,
    );
  const abortSeen = async (what: string, seen: () => Promise<boolean> | boolean): Promise<number> => {
    const started = performance.now();
    await eventually(what, async () => ((await seen()) ? true : undefined), {
      timeoutMs: ABORT_DEADLINE_MS,
      intervalMs: 20,
    });
    const ms = Math.round(performance.now() - started);
    console.info(`${what}: ${ms} ms after the cancel was recorded`);
    return ms;
  };
  const eventsOf = async (sessionId: string) => (await world.events(sessionId)) as unknown as SessionEvent[];
  const recorded = (sessionId: string, type: string, match: (data: Record<string, unknown>) => boolean) =>
    eventually(`${type} in ${sessionId}`, async () =>
      (await world.events(sessionId)).find((e) => e.type === type && match(e.data)),
    );
  const ledgerRows = async (tool: string) =>
    (await world.store.pool.query<{ key: string }>('select key from ledger where tool = $1', [tool])).rows;

  it('cancel during a 20 s model call ends the call at the model server and records ModelCallFailed{aborted}', async () => {
    await world.startSession('cancel-model', 'ledger');
    await world.post('cancel-model', 'slow answer');
    await modelCallArrived('slow answer');

    await world.cancel('cancel-model');
    await abortSeen('the fake model server to see the call aborted', () =>
      world.fake.aborted.some((r) => userText(r.body) === 'slow answer'),
    );
    const failed = await recorded('cancel-model', 'ModelCallFailed', () => true);
    expect(failed.data).toMatchObject({ callId: 't1.s1.m1', error: { type: 'aborted', retryable: false } });
    const events = await eventsOf('cancel-model');
    expect(events.map((e) => e.type).slice(-2)).toEqual(['TurnCancelled', 'ModelCallFailed']);
    expect(replayDecisions(events)).toMatchObject({ matches: true });
    const metrics = await (await fetch(`${replica.url}/metrics`)).text();
    expect(metrics).toMatch(/agentledger_calls_aborted_total\{kind="model"\} [1-9]/);
  });

  it('close during a sleeping tool aborts the tool, which gets its signal and idempotency key', async () => {
    await world.startSession('close-tool', 'sleeper');
    await world.post('close-tool', 'nap');
    const [started] = await eventually('the sleeper to start', async () => {
      const rows = await ledgerRows('sleeper-started');
      return rows.some((r) => r.key.endsWith('close-tool:t1.s1.m1.t0')) ? rows : undefined;
    });
    expect(started).toBeDefined();

    await world.closeSession('close-tool');
    await abortSeen('the tool to see its signal abort', async () =>
      (await ledgerRows('sleeper-aborted')).some((r) => r.key.endsWith('close-tool:t1.s1.m1.t0:aborted')),
    );
    const failed = await recorded('close-tool', 'ToolCallFailed', () => true);
    expect(failed.data).toMatchObject({ toolCallId: 't1.s1.m1.t0', reason: 'aborted' });
    const events = await eventsOf('close-tool');
    expect(events.map((e) => e.type).slice(-3)).toEqual(['TurnCancelled', 'SessionClosed', 'ToolCallFailed']);
    expect(replayDecisions(events)).toMatchObject({ matches: true });
  });

  it('interrupt aborts the running model call and the next message’s turn runs to its end', async () => {
    await world.startSession('interrupt', 'ledger', 'interrupt');
    await world.post('interrupt', 'slow first');
    await modelCallArrived('slow first');

    await world.post('interrupt', 'second');
    await abortSeen('the interrupted model call to be aborted at the server', () =>
      world.fake.aborted.some((r) => userText(r.body) === 'slow first'),
    );
    await eventually('the second turn to complete', async () =>
      ((await world.completedTurns()).get('interrupt') ?? 0) >= 1 ? true : undefined,
    );
    const events = await eventsOf('interrupt');
    const types = events.map((e) => e.type);
    expect(types).toContain('TurnCancelled');
    expect(events.find((e) => e.type === 'ModelCallFailed')?.data).toMatchObject({
      callId: 't1.s1.m1',
      error: { type: 'aborted' },
    });
    expect(events.find((e) => e.type === 'TurnCompleted')?.data).toMatchObject({ turnId: 't2' });
    expect(replayDecisions(events)).toMatchObject({ matches: true });
  });
});
