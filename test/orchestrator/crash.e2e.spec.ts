import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { eventually } from '@agentledger/testing';
import { createOrchestratorWorld, type OrchestratorWorld } from '../support/orchestrator-world.ts';

const LEASE_TTL_MS = 3_000;

// docs/architecture.md invariants 1, 4 and 5 when a replica dies: the survivor takes the sessions over, model
// calls are retried, idempotent tools retried with the same key, and a non-idempotent tool that
// may have run is recorded as unknown-outcome instead of running twice.
describe('orchestrator replicas that die or are stopped', () => {
  let world: OrchestratorWorld | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  // A generous wait (two CI runs at once slow a turn down many times); when it runs out, the error
  // names the sessions left, their leases and the processes' output.
  const allCompleted = async (w: OrchestratorWorld, ids: readonly string[], turns = 1) =>
    eventually(
      `all ${ids.length} sessions to complete`,
      async () => {
        const done = await w.completedTurns();
        if (ids.every((id) => (done.get(id) ?? 0) >= turns)) return true;
        throw new Error(await w.describeUnfinished(ids, turns));
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );

  it('survives a SIGKILL mid-run: sessions finish on the other replica with effects once', async () => {
    world = await createOrchestratorWorld({
      adminUrl: inject('databaseUrl'),
      brokers: inject('kafkaBrokers'),
      runId: inject('runId'),
      name: 'crash',
      modelDelayMs: () => 300,
      // A long group session timeout: the survivor must take over by lease expiry, not by a rebalance.
      env: { CHARGE_DELAY_MS: '4000', LEASE_TTL_MS: String(LEASE_TTL_MS), KAFKA_SESSION_TIMEOUT_MS: '45000' },
    });
    const w = world;
    const victim = await w.start('replica-a');
    await w.start('replica-b');
    const ids = Array.from({ length: 40 }, (_, i) => `crash-${i}`);
    await Promise.all(ids.map((id, i) => w.startSession(id, i % 2 === 0 ? 'charge' : 'ledger')));
    await Promise.all(ids.map((id) => w.post(id, `task of ${id}`)));

    // Kill once the victim is inside a non-idempotent tool call (the charge landed, the answer not yet).
    const started = await eventually('the victim to be inside a charge', async () => {
      const { rows } = await w.store.pool.query<{ tool_call_id: string }>(
        `select tool_call_id from tool_call_attempts where owner like 'replica-a/%'`,
      );
      return rows.length > 0 ? rows.map((r) => r.tool_call_id) : undefined;
    });
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const { rows: held } = await w.store.pool.query<{ session_id: string; lease_epoch: string }>(
      `select session_id, lease_epoch from sessions where lease_owner like 'replica-a/%' and pending_work`,
    );
    expect(held.length).toBeGreaterThan(0);
    // Takeover is by lease expiry (plus one recovery scan), not by the group's rebalance: when
    // replica-b holds every lease, the group still counts the dead replica-a as a member (its
    // 45 s session timeout, which reaches the consumer, has not run out).
    await eventually(
      'replica-b to take over every lease replica-a held',
      async () => {
        const { rows } = await w.store.pool.query<{ n: string }>(
          `select count(*) as n from sessions s join unnest($1::text[], $2::bigint[]) as h(id, epoch)
             on s.session_id = h.id where s.lease_epoch > h.epoch`,
          [held.map((h) => h.session_id), held.map((h) => h.lease_epoch)],
        );
        return Number(rows[0]!.n) === held.length ? true : undefined;
      },
      { intervalMs: 50 },
    );
    const admin = new Kafka({
      clientId: 'crash-test',
      brokers: inject('kafkaBrokers').split(','),
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([String(w.env.ORCHESTRATOR_GROUP)]);
      expect(groups[0]?.members.map((member) => member.clientId).sort()).toEqual(['replica-a', 'replica-b']);
    } finally {
      await admin.disconnect();
    }

    await allCompleted(w, ids);

    const { gaps, duplicateOutcomes, ledger } = await w.auditLog();
    expect(gaps).toEqual([]);
    expect(duplicateOutcomes).toEqual([]);
    // A charge ran at most once; one the victim may have started is unknown-outcome, never re-run.
    expect(ledger.filter((row) => row.tool === 'charge' && row.executions !== 1)).toEqual([]);

    const { rows: outcomes } = await w.store.pool.query<{ id: string; type: string; reason: string | null }>(
      `select data->>'toolCallId' as id, type, data->>'reason' as reason from events
       where type in ('ToolCallCompleted', 'ToolCallFailed') and data->>'toolCallId' = any($1)`,
      [started],
    );
    const interrupted = outcomes.filter((o) => o.type === 'ToolCallFailed');
    expect(interrupted.length).toBeGreaterThan(0);
    expect(interrupted.every((o) => o.reason === 'unknown-outcome')).toBe(true);
    const { rows: charges } = await w.store.pool.query<{ completed: string; unknown: string }>(
      `select count(*) filter (where type = 'ToolCallCompleted') as completed,
              count(*) filter (where type = 'ToolCallFailed' and data->>'reason' = 'unknown-outcome') as unknown
       from events e where type in ('ToolCallCompleted', 'ToolCallFailed')
         and exists (select 1 from events r where r.type = 'ToolCallRequested' and r.stream_id = e.stream_id
                     and r.data->>'toolCallId' = e.data->>'toolCallId' and r.data->>'name' = 'charge')`,
    );
    expect(Number(charges[0]!.completed) + Number(charges[0]!.unknown)).toBe(20);
    expect(ledger.filter((row) => row.tool === 'charge').length).toBeGreaterThanOrEqual(
      Number(charges[0]!.completed),
    );
    const { rows: failedElsewhere } = await w.store.pool.query(
      `select data from events where type in ('ToolCallFailed', 'ModelCallFailed') and not (data->>'toolCallId' = any($1))`,
      [started],
    );
    expect(failedElsewhere).toEqual([]);
  }, 180_000);

  it('drains on SIGTERM: exits 0 within its deadline and leaves no session without an owner', async () => {
    world = await createOrchestratorWorld({
      adminUrl: inject('databaseUrl'),
      brokers: inject('kafkaBrokers'),
      runId: inject('runId'),
      name: 'drain',
      modelDelayMs: () => 500,
      env: { SHUTDOWN_DEADLINE_MS: '8000' },
    });
    const w = world;
    const leaving = await w.start('replica-a');
    await w.start('replica-b');
    const ids = Array.from({ length: 40 }, (_, i) => `drain-${i}`);
    await Promise.all(ids.map((id) => w.startSession(id, 'ledger')));
    await Promise.all(ids.map((id) => w.post(id, `task of ${id}`)));
    await eventually('replica-a to hold leases', async () => {
      const { rows } = await w.store.pool.query(
        `select 1 from sessions where lease_owner like 'replica-a/%'`,
      );
      return rows.length > 0 ? true : undefined;
    });

    const signalledAt = Date.now();
    leaving.child.kill('SIGTERM');
    expect(await leaving.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(8_000 + 5_000);
    const { rows: held } = await w.store.pool.query(
      `select session_id from sessions where lease_owner like 'replica-a/%'`,
    );
    expect(held).toEqual([]);

    await allCompleted(w, ids);
    const { gaps, duplicateOutcomes, ledger } = await w.auditLog();
    expect(gaps).toEqual([]);
    expect(duplicateOutcomes).toEqual([]);
    expect(ledger).toHaveLength(40);
  }, 180_000);
});
