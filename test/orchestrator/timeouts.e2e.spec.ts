import { afterEach, describe, expect, inject, it } from 'vitest';
import { replayDecisions, type SessionEvent } from '@agentledger/agents';
import { eventually } from '@agentledger/testing';
import { createOrchestratorWorld, type OrchestratorWorld } from '../support/orchestrator-world.ts';

/** A model that never answers in time: the turn's 3 s timeout must end it. */
const STALL_MS = 60_000;
const TIMEOUT = { limits: { turnTimeoutSeconds: 3 } };
const TIMED_OUT = 'Timeout of 3 seconds reached';

// Issue 15 item 3: the turn timeout fires on time while a call is out, on the replica that holds
// the session, also after that replica is SIGKILLed (the deadline comes from the events, so the
// replica that takes the session over arms the same one). Times are the events' recorded times.
describe('turn and approval deadlines fire while the turn waits', () => {
  let world: OrchestratorWorld | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  const open = async (name: string, env: Readonly<Record<string, string>> = {}) => {
    world = await createOrchestratorWorld({
      adminUrl: inject('databaseUrl'),
      brokers: inject('kafkaBrokers'),
      runId: inject('runId'),
      name,
      modelDelayMs: (task) => (task.startsWith('stall') ? STALL_MS : 20),
      env,
    });
    return world;
  };

  const userText = (body: unknown): string => {
    const messages = (body as { messages?: { role: string; content?: unknown }[] }).messages ?? [];
    const last = messages.findLast((m) => m.role === 'user')?.content;
    return typeof last === 'string' ? last : '';
  };

  const eventsOf = async (w: OrchestratorWorld, sessionId: string) =>
    (await w.events(sessionId)) as unknown as SessionEvent[];

  /** The recorded event of `type` (polling up to 30 s: a loaded machine), with its data. */
  const recorded = (w: OrchestratorWorld, sessionId: string, type: string) =>
    eventually(
      `${type} in ${sessionId}`,
      async () => (await w.events(sessionId)).find((e) => e.type === type),
      { timeoutMs: 30_000, intervalMs: 50 },
    );

  /** Seconds between the turn's recorded start and its recorded (timed-out) completion. */
  const timedOutAfter = async (w: OrchestratorWorld, sessionId: string): Promise<number> => {
    const completed = await recorded(w, sessionId, 'TurnCompleted');
    expect(completed.data).toMatchObject({ turnId: 't1', reason: TIMED_OUT });
    const started = (await w.events(sessionId)).find((e) => e.type === 'TurnStarted')!;
    const seconds = (Date.parse(String(completed.data.at)) - Date.parse(String(started.data.at))) / 1000;
    console.info(`${sessionId}: turn timed out ${seconds} s after it started (recorded times)`);
    return seconds;
  };

  it('a stalled model call: the turn ends timed out within 4 s, the call is aborted at the model server', async () => {
    const w = await open('timeout');
    const replica = await w.start('replica-a');
    await w.startSession('stalled', 'ledger', undefined, undefined, TIMEOUT);
    await w.post('stalled', 'stall please');

    const seconds = await timedOutAfter(w, 'stalled');
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(seconds).toBeLessThanOrEqual(4);
    await eventually('the fake model server to see the stalled call aborted', () =>
      w.fake.aborted.some((r) => userText(r.body) === 'stall please') ? true : undefined,
    );
    const failed = await recorded(w, 'stalled', 'ModelCallFailed');
    expect(failed.data).toMatchObject({ callId: 't1.s1.m1', error: { type: 'aborted', retryable: false } });
    const events = await eventsOf(w, 'stalled');
    expect(events.map((e) => e.type).slice(-2)).toEqual(['TurnCompleted', 'ModelCallFailed']);
    expect(replayDecisions(events)).toMatchObject({ matches: true });
    expect((await w.load('stalled'))?.status).toBe('idle');
    const metrics = await (await fetch(`${replica.url}/metrics`)).text();
    expect(metrics).toMatch(/agentledger_turns_timed_out_total [1-9]/);

    // The session goes on: the next message's turn runs to its end.
    await w.post('stalled', 'quick one');
    await eventually('the second turn to complete', async () =>
      (await w.events('stalled')).some((e) => e.type === 'TurnCompleted' && e.data.turnId === 't2')
        ? true
        : undefined,
    );
  });

  it('the owning replica SIGKILLed mid-wait: the survivor ends the turn timed out within 4 s', async () => {
    // The lease must expire (and be taken over) well inside the 3 s: TTL 1 s, renewed every 333 ms.
    const w = await open('timeout-kill', { LEASE_TTL_MS: '1000', RECOVERY_INTERVAL_MS: '200' });
    const replicas = [await w.start('replica-a'), await w.start('replica-b')];
    await w.startSession('killed', 'ledger', undefined, undefined, TIMEOUT);
    await w.post('killed', 'stall across a crash');
    await eventually('the stalled call to reach the fake model server', () =>
      w.fake.requests.some((r) => userText(r.body) === 'stall across a crash') ? true : undefined,
    );
    const owner = await eventually('the lease holder', async () => {
      const { rows } = await w.store.pool.query<{ lease_owner: string | null }>(
        'select lease_owner from sessions where session_id = $1',
        ['killed'],
      );
      return rows[0]?.lease_owner ?? undefined;
    });
    const victim = replicas.find((r) => owner.startsWith(`${r.replicaId}/`))!;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');

    const seconds = await timedOutAfter(w, 'killed');
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(seconds).toBeLessThanOrEqual(4);
    const events = await eventsOf(w, 'killed');
    expect(events.filter((e) => e.type === 'TurnCompleted')).toHaveLength(1);
    expect(replayDecisions(events)).toMatchObject({ matches: true });
  });

  it('an approval nobody answers is denied at its deadline and the tool never runs', async () => {
    const w = await open('approval-deadline');
    await w.start('replica-a');
    await w.startSession(
      'unanswered',
      'ledger',
      undefined,
      { approvalRequired: ['ledger'] },
      {
        approvals: { timeoutSeconds: 2, onTimeout: 'deny' },
      },
    );
    await w.post('unanswered', 'needs a yes');

    const requested = await recorded(w, 'unanswered', 'ToolApprovalRequested');
    const denied = await recorded(w, 'unanswered', 'ToolApprovalDenied');
    expect(denied.data).toMatchObject({ toolCallId: requested.data.toolCallId, timedOut: true });
    const waited = Date.parse(String(denied.data.at)) - Date.parse(String(requested.data.at));
    expect(waited).toBeGreaterThanOrEqual(2_000);
    expect(waited).toBeLessThanOrEqual(3_000);
    const failed = await recorded(w, 'unanswered', 'ToolCallFailed');
    expect(failed.data).toMatchObject({ reason: 'approval-denied' });
    await recorded(w, 'unanswered', 'TurnCompleted');
    const { rows } = await w.store.pool.query('select key from ledger');
    expect(rows).toEqual([]);
    expect(replayDecisions(await eventsOf(w, 'unanswered'))).toMatchObject({ matches: true });
  });
});
