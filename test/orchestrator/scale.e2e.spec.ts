import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '@agentledger/testing';
import { metricFamilies, sample } from '../support/observability.ts';
import type { OrchestratorProcess } from '../support/orchestrator-process.ts';
import { createOrchestratorWorld, type OrchestratorWorld } from '../support/orchestrator-world.ts';

// docs/architecture.md invariants 1, 4 and 6 across processes: 200 sessions × 3 turns, each turn a model call
// and a tool call, on two orchestrator replicas sharing the partitions of one consumer group.
describe('two orchestrator replicas, 200 sessions × 3 turns', () => {
  let world: OrchestratorWorld;
  let replicas: readonly OrchestratorProcess[];
  const sessions = Array.from({ length: 200 }, (_, i) => `scale-${i}`);

  beforeAll(async () => {
    world = await createOrchestratorWorld({
      adminUrl: inject('databaseUrl'),
      brokers: inject('kafkaBrokers'),
      runId: inject('runId'),
      name: 'scale',
    });
    replicas = await Promise.all([world.start('replica-a'), world.start('replica-b')]);
  });

  afterAll(async () => {
    await world?.close();
  });

  it('completes every turn with contiguous histories and every tool call executed exactly once', async () => {
    await Promise.all(sessions.map((id) => world.startSession(id, 'ledger')));
    for (const turn of [1, 2, 3]) {
      await Promise.all(sessions.map((id) => world.post(id, `turn ${turn} of ${id}`)));
      await eventually(
        `all sessions to complete turn ${turn}`,
        async () => {
          const done = await world.completedTurns();
          return sessions.every((id) => (done.get(id) ?? 0) >= turn) ? true : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 250 },
      );
    }
    const { rows: failures } = await world.store.pool.query(
      `select type, data from events where type in ('ToolCallFailed','ModelCallFailed','TurnFailed') limit 5`,
    );
    expect(failures).toEqual([]);
    const { gaps, duplicateOutcomes, ledger } = await world.auditLog();
    expect(gaps).toEqual([]);
    expect(duplicateOutcomes).toEqual([]);
    expect(ledger).toHaveLength(600);
    // A tool runs twice only when its result was never recorded: a lease lost to the other replica
    // (which retries idempotent tools, as the contract allows) is named in the failure, with which
    // replica ran each execution (the ledger's runs) and what each process logged at warn or above.
    const lost = await Promise.all(
      replicas.map(async ({ url }) =>
        sample(metricFamilies(await (await fetch(`${url}/metrics`)).text()), 'agentledger_leases_lost_total'),
      ),
    );
    const twice = ledger.filter((row) => row.executions !== 1);
    const logged = replicas.map(
      (r) =>
        `--- ${r.replicaId}:\n${r
          .output()
          .split('\n')
          .filter((line) => !line.includes('kafkajs'))
          .join('\n')
          .slice(-3_000)}`,
    );
    expect(
      twice,
      `tools run twice; leases lost per replica: ${lost.join(', ')}\n${twice.length > 0 ? logged.join('\n') : ''}`,
    ).toEqual([]);
    const last = await world.load('scale-7');
    expect(last?.messages.at(-1)?.content).toContain('ledger turn 3 of scale-7');
    const { rows: writers } = await world.store.pool.query<{ replica: string }>(
      `select distinct metadata->>'replicaId' as replica from events where metadata ? 'replicaId' order by 1`,
    );
    expect(writers.map((row) => row.replica)).toEqual(['replica-a', 'replica-b']);
  });
});
