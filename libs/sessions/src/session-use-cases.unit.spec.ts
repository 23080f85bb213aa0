import { describe, expect, it } from 'vitest';
import {
  Conflict,
  createInMemoryEventStore,
  IdempotencyKeyReused,
  NotFound,
  sessionStreamId,
  ValidationFailed,
} from '@agentledger/events';
import { createSessionEngine } from './engine/session-engine.ts';
import { createInMemorySessionIndex } from './memory/memory-session-index.ts';
import { createSessionUseCases } from './session-use-cases.ts';
import { postMessage, recordingCalls, singleTeam } from './testing/fixtures.ts';

const acme = { tenantId: 'acme', keyId: 'key-acme' };
const globex = { tenantId: 'globex', keyId: 'key-globex' };

/** The use cases on in-memory ports, with teams `support` and `sales` in every tenant and predictable ids. */
const useCases = () => {
  const store = createInMemoryEventStore();
  const index = createInMemorySessionIndex();
  let next = 0;
  return createSessionUseCases({
    store,
    engine: createSessionEngine({ store, index, partitions: 4 }),
    index,
    teams: {
      get: async (_tenantId, teamId) =>
        ['support', 'sales'].includes(teamId) ? { spec: singleTeam() } : undefined,
    },
    parseTeamSpec: () => ({ ok: true }),
    clock: () => new Date('2026-01-01T00:00:00Z'),
    newId: () => `id-${(next += 1)}`,
    pollIntervalMs: 10,
  });
};

describe('session use cases throw library errors, never transport ones', () => {
  it('answers a repeated create with the first answer, and another team under the same id with Conflict', async () => {
    const sessions = useCases();
    const first = await sessions.createSession(acme, { teamId: 'support', sessionId: 's-1' }, undefined);
    expect(first).toEqual({ sessionId: 's-1', status: 'idle', version: 1 });
    expect(await sessions.createSession(acme, { teamId: 'support', sessionId: 's-1' }, undefined)).toEqual(
      first,
    );
    await expect(
      sessions.createSession(acme, { teamId: 'sales', sessionId: 's-1' }, undefined),
    ).rejects.toThrow(Conflict);
    await expect(sessions.createSession(acme, { teamId: 'sales', sessionId: 's-1' }, 'k-1')).rejects.toThrow(
      IdempotencyKeyReused,
    );
    await expect(sessions.createSession(acme, { teamId: 'nope' }, undefined)).rejects.toThrow(NotFound);
  });

  it('keeps tenants apart: another tenant’s session is NotFound', async () => {
    const sessions = useCases();
    await sessions.createSession(acme, { teamId: 'support', sessionId: 's-1' }, undefined);
    await expect(sessions.getSession(globex, 's-1')).rejects.toThrow(NotFound);
    await expect(sessions.postMessage(globex, 's-1', { content: 'hi' }, undefined)).rejects.toThrow(NotFound);
  });

  it('a key reused with another message content is IdempotencyKeyReused; the same content is the same message', async () => {
    const sessions = useCases();
    await sessions.createSession(acme, { teamId: 'support', sessionId: 's-1' }, undefined);
    const accepted = await sessions.postMessage(acme, 's-1', { content: 'hi' }, 'k-1');
    expect(await sessions.postMessage(acme, 's-1', { content: 'hi' }, 'k-1')).toEqual(accepted);
    await expect(sessions.postMessage(acme, 's-1', { content: 'other' }, 'k-1')).rejects.toThrow(
      IdempotencyKeyReused,
    );
  });

  it('a state or fork beyond the head is ValidationFailed naming the field', async () => {
    const sessions = useCases();
    await sessions.createSession(acme, { teamId: 'support', sessionId: 's-1' }, undefined);
    await expect(sessions.getSession(acme, 's-1', 5)).rejects.toMatchObject({
      constructor: ValidationFailed,
      errors: [expect.objectContaining({ in: 'query', field: 'at' })],
    });
    await expect(sessions.fork(acme, 's-1', { atVersion: 5 }, undefined)).rejects.toMatchObject({
      errors: [expect.objectContaining({ in: 'body', field: 'atVersion', pointer: '#/atVersion' })],
    });
  });

  it('a foreign list cursor is ValidationFailed on the cursor', async () => {
    const sessions = useCases();
    await expect(sessions.listSessions(acme, { limit: 10, cursor: 'not-ours' })).rejects.toMatchObject({
      errors: [expect.objectContaining({ in: 'query', field: 'cursor' })],
    });
  });

  it('a closed session refuses messages with the decider’s stable code (the edges answer 409)', async () => {
    const sessions = useCases();
    await sessions.createSession(acme, { teamId: 'support', sessionId: 's-1' }, undefined);
    await sessions.close(acme, 's-1', 'done', undefined);
    const refused = await sessions
      .postMessage(acme, 's-1', { content: 'hi' }, undefined)
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: expect.stringMatching(/^(session_closed|illegal_session_state)$/),
    });
  });

  it('decides a message, a cancel and a close on the session its engine keeps up with the log, without reading the log; an append it missed is read once', async () => {
    const store = createInMemoryEventStore();
    const index = createInMemorySessionIndex();
    const counted = recordingCalls(store, 'readStream');
    const engine = createSessionEngine({ store: counted.store, index, partitions: 4 });
    const orchestrator = createSessionEngine({ store, index, partitions: 4 });
    const sessions = createSessionUseCases({
      store,
      engine,
      index,
      teams: { get: async () => ({ spec: singleTeam() }) },
      parseTeamSpec: () => ({ ok: true }),
      clock: () => new Date('2026-01-01T00:00:00Z'),
      newId: () => 'id',
      pollIntervalMs: 10,
    });
    const ref = { tenantId: 'acme', sessionId: 's-1' };
    const elsewhere = (id: string) => orchestrator.handle(postMessage(id, `from ${id}`), ref);
    await sessions.createSession(acme, { teamId: 'support', sessionId: 's-1' }, undefined);
    // Another process appends; the gateway's live events show the engine what it appended.
    for (const event of (await elsewhere('o-1')).events) engine.observe(event);
    counted.calls.length = 0;
    const first = await sessions.postMessage(acme, 's-1', { content: 'one' }, 'k-1');
    const cancelled = await sessions.cancel(acme, 's-1', 'enough', 'k-c');
    const closed = await sessions.close(acme, 's-1', 'done', 'k-2');
    expect(counted.calls).toHaveLength(0);
    const versionOf = async (sessionId: string, content: string) =>
      (await store.readStream(sessionStreamId('acme', sessionId), { tenantId: 'acme' })).find(
        (event) => (event.data as { content?: string }).content === content,
      )?.version;
    expect(first).toMatchObject({ outcome: 'accepted', body: { version: await versionOf('s-1', 'one') } });
    expect(cancelled.version).toBeLessThan(closed.version);
    expect(closed.status).toBe('closed');
    // An append the engine was not shown: the message's first append is refused by its expected
    // version, and the retry reads the stream once.
    await sessions.createSession(acme, { teamId: 'support', sessionId: 's-2' }, undefined);
    await orchestrator.handle(postMessage('o-2', 'unseen'), { ...ref, sessionId: 's-2' });
    counted.calls.length = 0;
    const late = await sessions.postMessage(acme, 's-2', { content: 'two' }, 'k-3');
    expect(late).toMatchObject({ outcome: 'accepted', body: { version: await versionOf('s-2', 'two') } });
    expect(counted.calls).toHaveLength(1);
  });
});
