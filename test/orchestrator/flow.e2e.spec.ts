import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { partitionForKey } from '@agentledger/events/bus';
import { eventually } from '@agentledger/testing';
import { createOrchestratorWorld, type OrchestratorWorld } from '../support/orchestrator-world.ts';
import type { OrchestratorProcess } from '../support/orchestrator-process.ts';

const SLOW_MODEL_MS = 20_000;

// docs/architecture.md invariant 6 and flow step 3: bounded model calls per replica, bounded memory, and a
// consumer that never waits on a model call (a slow session does not hold up its partition).
describe('one orchestrator replica under load', () => {
  let world: OrchestratorWorld;
  let replica: OrchestratorProcess;

  beforeAll(async () => {
    world = await createOrchestratorWorld({
      adminUrl: inject('databaseUrl'),
      brokers: inject('kafkaBrokers'),
      runId: inject('runId'),
      name: 'flow',
      modelDelayMs: (task) => (task.startsWith('slow') ? SLOW_MODEL_MS : 100),
      env: { MAX_MODEL_CALLS: '4', MAX_CONCURRENT_SESSIONS: '32' },
    });
    replica = await world.start('replica-solo');
  });

  afterAll(async () => {
    await world?.close();
  });

  const completed = (ids: readonly string[], timeoutMs: number) =>
    eventually(
      `${ids.length} sessions to complete`,
      async () => {
        const done = await world.completedTurns();
        return ids.every((id) => (done.get(id) ?? 0) >= 1) ? true : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );

  it('keeps at most 4 model calls in flight for 100 sessions started at once, in bounded memory', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `load-${i}`);
    await Promise.all(ids.map((id) => world.startSession(id, 'ledger')));
    await Promise.all(ids.map((id) => world.post(id, `task of ${id}`)));
    await completed(ids, 90_000);
    expect(world.modelPeak()).toBeLessThanOrEqual(4);
    expect(world.modelPeak()).toBe(4);
    const metrics = await (await fetch(`${replica.url}/metrics`)).text();
    const rss = Number(/^process_resident_memory_bytes (\S+)$/m.exec(metrics)?.[1]);
    expect(rss).toBeGreaterThan(0);
    expect(rss).toBeLessThan(512 * 1024 * 1024);
    expect(metrics).toMatch(/^agentledger_steps_total\{kind="tool",outcome="completed"\} 100$/m);
  });

  it('does not let a 20 s model call of one session delay the other sessions of its partition', async () => {
    const slow = 'slow-0';
    const partition = partitionForKey(slow, 12);
    const neighbours: string[] = [];
    for (let i = 0; neighbours.length < 10; i += 1) {
      if (partitionForKey(`neighbour-${i}`, 12) === partition) neighbours.push(`neighbour-${i}`);
    }
    await world.startSession(slow, 'ledger');
    await world.post(slow, 'slow task');
    await eventually('the slow model call to be in flight', () =>
      world.fake.requests.some((r) => JSON.stringify(r.body).includes('slow task')) ? true : undefined,
    );
    await Promise.all(neighbours.map((id) => world.startSession(id, 'ledger')));
    await Promise.all(neighbours.map((id) => world.post(id, `task of ${id}`)));
    await completed(neighbours, SLOW_MODEL_MS / 2);
    // The neighbours finished while the slow call is still in flight: it did not hold them back.
    expect((await world.completedTurns()).get(slow)).toBeUndefined();
    await completed([slow], SLOW_MODEL_MS + 15_000);
  });
});
