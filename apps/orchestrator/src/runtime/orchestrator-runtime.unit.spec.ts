import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { teamSpecSchema } from '@agentledger/agents';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '@agentledger/agents/testing';
import { createInMemoryEventStore, sessionStreamId, type EventStore } from '@agentledger/events';
import { createInProcessEventBus, quietLogger } from '@agentledger/events/bus';
import { createInMemorySessionIndex } from '@agentledger/sessions';
import { eventually } from '@agentledger/testing';
import { answerWithStamp, stampTeam } from '../../../../test/support/stamp-model.ts';
import {
  createOrchestratorRuntime,
  type OrchestratorRuntime,
  type OrchestratorRuntimeDeps,
} from './orchestrator-runtime.ts';
import { orchestratorRuntimeConfigSchema, parseRuntimeConfig } from './runtime.config.ts';

const stampTools = fileURLToPath(new URL('../../../../test/support/stamp-tools.ts', import.meta.url));
const meta = (id: string) => ({ commandId: id, correlationId: id, now: new Date() });

// The runtime needs neither Nest, Postgres nor Kafka: an in-memory store and the in-process bus.
describe('the orchestrator runtime as a plain module', () => {
  let fake: FakeOpenAIServer | undefined;
  let runtime: OrchestratorRuntime | undefined;
  afterEach(async () => {
    await runtime?.stop();
    await fake?.close();
    runtime = undefined;
    fake = undefined;
  });

  /** The runtime over `store` (default a new in-memory one) and the in-process bus. */
  const compose = async (
    env: Readonly<Record<string, string>>,
    store: EventStore = createInMemoryEventStore(),
    relay?: OrchestratorRuntimeDeps<unknown>['relay'],
  ) => {
    const config = parseRuntimeConfig(orchestratorRuntimeConfigSchema, env, 'configuration');
    runtime = await createOrchestratorRuntime({
      store,
      index: createInMemorySessionIndex(),
      bus: createInProcessEventBus({ partitions: config.KAFKA_PARTITIONS }),
      config,
      logger: quietLogger,
      env,
      ...(relay === undefined ? {} : { relay }),
    });
    return runtime;
  };

  it('runs a turn whose tool comes from TOOLS_MODULE, on the OPENAI_BASE_URL model, and reports health and metrics', async () => {
    fake = await startFakeOpenAIServer();
    answerWithStamp(fake);
    const rt = await compose({
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test-key-not-secret',
      TOOLS_MODULE: stampTools,
      KAFKA_PARTITIONS: '4',
      REPLICA_ID: 'plain-runtime',
    });
    expect(rt.effective.tools).toEqual(['calculator', 'http_request', 'stamp']);
    expect(await Promise.all(rt.health.map(({ check }) => check()))).toEqual([false, false]);
    await rt.start();
    await eventually('the consumer to be assigned', () => (rt.orchestrator.ready() ? true : undefined));
    expect(await Promise.all(rt.health.map(({ check }) => check()))).toEqual([true, true]);

    const ref = { tenantId: 'tenant-a', sessionId: 's-1' };
    const spec = teamSpecSchema.parse(stampTeam);
    await rt.engine.handle(
      { type: 'StartSession', data: { ...ref, teamId: 'stamp', spec }, metadata: meta('start') },
      ref,
    );
    await rt.engine.handle(
      { type: 'PostUserMessage', data: { messageId: 'm-1', content: 'invoice 7' }, metadata: meta('m-1') },
      ref,
    );
    const state = await eventually('the turn to end', async () => {
      const loaded = await rt.engine.load(ref.tenantId, ref.sessionId);
      return loaded?.status === 'idle' && loaded.turnCount > 0 ? loaded : undefined;
    });
    expect(state.messages.at(-1)?.content).toContain(`stamped invoice 7 in process ${process.pid}`);
    expect(fake.requests.length).toBeGreaterThan(0);
    expect(fake.requests[0]?.headers['authorization']).toBe('Bearer test-key-not-secret');
    const metrics = await rt.metrics.metrics();
    expect(metrics).toMatch(/agentledger_steps_total\{kind="tool",outcome="completed"\} 1/);
    expect(metrics).toMatch(/agentledger_relay_published_events_total \d+/);
  });

  it('has its relay save its checkpoint at most once a second, whoever composes it', async () => {
    const memory = createInMemoryEventStore();
    const saved: number[] = [];
    const store = {
      ...memory,
      saveCheckpoint: async (subscriberId: string, position: number) => {
        saved.push(position);
        await memory.saveCheckpoint(subscriberId, position);
      },
    };
    const rt = await compose({ REPLICA_ID: 'paced' }, store);
    await rt.start();
    // Five batches, each published on its own wake (a commit's notification), well within a second.
    for (let batch = 1; batch <= 5; batch += 1) {
      await memory.append(sessionStreamId('tenant-a', `paced-${batch}`), [{ type: 'Noted', data: {} }], {
        tenantId: 'tenant-a',
        expectedVersion: 'any',
      });
      rt.relay.wake();
      await eventually(`batch ${batch} published`, () =>
        rt.relay.status().publishedEvents >= batch ? true : undefined,
      );
    }
    // The first batch's position is saved at once, the others wait for the second to pass.
    expect(saved.length).toBeLessThanOrEqual(2);
  });

  it("publishes its store's commits as they happen (no idle poll), and stops listening at stop", async () => {
    const memory = createInMemoryEventStore();
    let listening = 0;
    const store = {
      ...memory,
      onCommit: (listener: Parameters<typeof memory.onCommit>[0]) => {
        listening += 1;
        const stop = memory.onCommit(listener);
        return () => {
          listening -= 1;
          stop();
        };
      },
    };
    // The idle poll out of reach: only the store's commits make the relay read.
    const rt = await compose({ REPLICA_ID: 'woken' }, store, { idlePollMs: 600_000 });
    await rt.start();
    expect(listening).toBe(1);
    await eventually('the relay leads', () => (rt.relay.status().leader ? true : undefined));
    for (let event = 1; event <= 3; event += 1) {
      await memory.append(sessionStreamId('tenant-a', 'woken'), [{ type: 'Noted', data: {} }], {
        tenantId: 'tenant-a',
        expectedVersion: event - 1,
      });
      await eventually(`event ${event} published`, () =>
        rt.relay.status().publishedEvents >= event ? true : undefined,
      );
    }
    await rt.stop();
    runtime = undefined;
    expect(listening).toBe(0);
  });

  it('refuses a TOOLS_MODULE without a tools array (named in the error)', async () => {
    await expect(
      compose({ TOOLS_MODULE: fileURLToPath(new URL('./runtime.config.ts', import.meta.url)) }),
    ).rejects.toThrow(/TOOLS_MODULE .* has no 'tools' array export/);
  });
});
