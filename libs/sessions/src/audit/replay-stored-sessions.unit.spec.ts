import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore, type EventEnvelope, type EventStore } from '@agentledger/events';
import { rejection } from '@agentledger/testing';
import { createInMemorySessionIndex } from '../memory/memory-session-index.ts';
import { createSessionEngine } from '../engine/session-engine.ts';
import { postMessage, startSession } from '../testing/fixtures.ts';
import { assertStoredSessionsReplay, replayStoredSessions } from './replay-stored-sessions.ts';

/** Two tenants' sessions with one turn each, and a stream that is not a session. */
const recorded = async () => {
  const store = createInMemoryEventStore();
  const engine = createSessionEngine({ store, index: createInMemorySessionIndex(), partitions: 12 });
  for (const [tenantId, sessionId] of [
    ['tenant-a', 's1'],
    ['tenant-b', 's2'],
  ] as const) {
    await engine.handle(startSession(sessionId, tenantId), { tenantId, sessionId });
    await engine.handle(postMessage(`${sessionId}-m1`, 'hello'), { tenantId, sessionId });
  }
  await store.append('team-tenant-a/t1', [{ type: 'TeamDefined', data: { x: 1 } }], {
    tenantId: 'tenant-a',
    expectedVersion: 'no_stream',
  });
  return store;
};

/** The store's log with one event of one stream changed (what a tampered or buggy log reads like). */
const doctored = (
  store: EventStore,
  streamSuffix: string,
  type: string,
  change: (data: Record<string, unknown>) => Record<string, unknown>,
): Pick<EventStore, 'readAll' | 'committedHead'> => ({
  committedHead: store.committedHead,
  readAll: async (options) =>
    (await store.readAll(options)).map((e): EventEnvelope =>
      e.streamId.endsWith(streamSuffix) && e.type === type
        ? { ...e, data: change(e.data as Record<string, unknown>) }
        : e,
    ),
});

describe('decision replay of every stored session (the e2e harnesses’ check)', () => {
  it('passes for sessions the engine recorded, skipping streams that are not sessions', async () => {
    const store = await recorded();
    const result = await assertStoredSessionsReplay(store);
    expect(result.failures).toEqual([]);
    expect(result.sessions).toBe(2);
    expect(result.events).toBeGreaterThan(4);
  });

  it('pages through the log: a page size smaller than the log reads every event', async () => {
    const store = await recorded();
    const all = await store.readAll();
    const pages: number[] = [];
    const small: Pick<EventStore, 'readAll' | 'committedHead'> = {
      committedHead: store.committedHead,
      readAll: async (options) => {
        const page = await store.readAll({ ...options, limit: 3 });
        pages.push(page.length);
        return page;
      },
    };
    const result = await replayStoredSessions(small);
    expect(pages.length).toBeGreaterThan(2);
    expect(result.events).toBe(all.filter((e) => e.streamId.startsWith('session-')).length);
  });

  it('a doctored decision fails, naming the session, its tenant and the divergent version', async () => {
    const store = await recorded();
    const events = await store.readAll({ tenantId: 'tenant-b' });
    const version = events.find((e) => e.type === 'ModelCallRequested')!.version;
    const tampered = doctored(store, '/s2', 'ModelCallRequested', (data) => ({
      ...data,
      contextHash: 'sha256:00',
    }));
    const result = await replayStoredSessions(tampered);
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]).toMatchObject({
      tenantId: 'tenant-b',
      sessionId: 's2',
      replay: { matches: false, firstDivergentVersion: version },
    });
    const error = (await rejection(assertStoredSessionsReplay(tampered))) as Error;
    expect(error.message).toContain(`session s2 (tenant tenant-b) diverges at version ${version}`);
    expect(error.message).toContain('recorded ModelCallRequested');
    expect(error.message).not.toContain('session s1');
  });

  it('one tenant only with tenantId', async () => {
    const store = await recorded();
    const tampered = doctored(store, '/s2', 'ModelCallRequested', (data) => ({ ...data, contextHash: 'x' }));
    expect((await replayStoredSessions(tampered, { tenantId: 'tenant-a' })).failures).toEqual([]);
    expect((await replayStoredSessions(tampered, { tenantId: 'tenant-a' })).sessions).toBe(1);
  });
});
