import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@agentledger/testing';
import type { Problem } from '../errors/problem.ts';
import {
  answerModelCall,
  KEYS,
  request,
  singleTeamSpec,
  startSession,
  startTestGateway,
  type TestGateway,
} from '../testing/test-gateway.ts';

type Json = Record<string, unknown>;
const json = async (response: Response): Promise<Json> => (await response.json()) as Json;

describe('the session endpoints over REST', () => {
  let gateway: TestGateway;
  const as = (key: string) => ({
    get: (path: string) => request(gateway, 'GET', path, { key }),
    post: (path: string, body?: unknown, headers: Record<string, string> = {}) =>
      request(gateway, 'POST', path, { key, body, headers }),
  });
  const a = () => as(KEYS.a);
  const b = () => as(KEYS.b);

  beforeAll(async () => {
    gateway = await startTestGateway();
    await startSession(gateway, KEYS.a, 'main');
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('creates sessions idempotently by id or by Idempotency-Key', async () => {
    const first = await a().post('/v1/sessions', { teamId: 'support', sessionId: 'idem-1' });
    expect(first.status).toBe(201);
    const body = await json(first);
    expect(body).toEqual({ sessionId: 'idem-1', status: 'idle', version: 1 });
    expect(await json(await a().post('/v1/sessions', { teamId: 'support', sessionId: 'idem-1' }))).toEqual(
      body,
    );
    const keyed = await json(
      await a().post('/v1/sessions', { teamId: 'support' }, { 'idempotency-key': 'c-1' }),
    );
    expect(
      await json(await a().post('/v1/sessions', { teamId: 'support' }, { 'idempotency-key': 'c-1' })),
    ).toEqual(keyed);
    await request(gateway, 'PUT', '/v1/teams/other', { key: KEYS.a, body: singleTeamSpec('other') });
    const reused = await a().post('/v1/sessions', { teamId: 'other' }, { 'idempotency-key': 'c-1' });
    expect(reused.status).toBe(422);
    const otherTeam = await a().post('/v1/sessions', { teamId: 'other', sessionId: 'idem-1' });
    expect(otherTeam.status).toBe(409);
    const generated = await json(await a().post('/v1/sessions', { teamId: 'support' }));
    expect(generated.sessionId).not.toBe(keyed.sessionId);
  });

  it('keeps the metadata given at creation in SessionStarted, and refuses metadata that is not labels', async () => {
    const labels = { customer: 'c-42', channel: 'web' };
    expect(
      (await a().post('/v1/sessions', { teamId: 'support', sessionId: 'meta-1', metadata: labels })).status,
    ).toBe(201);
    const page = await json(await a().get('/v1/sessions/meta-1/events'));
    const [started] = page.events as { type: string; data: { metadata?: unknown } }[];
    expect(started).toMatchObject({ type: 'SessionStarted', data: { metadata: labels } });
    const bad = await a().post('/v1/sessions', {
      teamId: 'support',
      sessionId: 'meta-2',
      metadata: { n: 1 },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Problem).errors).toEqual([
      expect.objectContaining({ field: 'metadata.n' }),
    ]);
    expect((await a().get('/v1/sessions/meta-2')).status).toBe(404);
  });

  it("refuses unknown teams and unknown fields; another tenant's session id is free", async () => {
    expect((await a().post('/v1/sessions', { teamId: 'nope' })).status).toBe(404);
    await startSession(gateway, KEYS.b, 'taken');
    const taken = await a().post('/v1/sessions', { teamId: 'support', sessionId: 'taken' });
    expect(taken.status).toBe(201);
    expect(await taken.json()).toEqual({ sessionId: 'taken', status: 'idle', version: 1 });
    const unknown = (await json(
      await a().post('/v1/sessions', { teamId: 'support', extra: 1 }),
    )) as unknown as Problem;
    expect(unknown.status).toBe(400);
    expect(unknown.errors?.[0]).toMatchObject({ in: 'body' });
  });

  it('stores a message once for 20 concurrent posts with one Idempotency-Key; another body is 422', async () => {
    await startSession(gateway, KEYS.a, 'concurrent');
    const posts = await Promise.all(
      Array.from({ length: 20 }, () =>
        a().post('/v1/sessions/concurrent/messages', { content: 'once' }, { 'idempotency-key': 'msg-1' }),
      ),
    );
    expect(posts.map((response) => response.status)).toEqual(Array.from({ length: 20 }, () => 202));
    const bodies = await Promise.all(posts.map(json));
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    const state = await json(await a().get('/v1/sessions/concurrent'));
    expect(state.messages).toEqual([
      expect.objectContaining({ content: 'once', source: 'user', role: 'user' }),
    ]);
    const reused = await a().post(
      '/v1/sessions/concurrent/messages',
      { content: 'other' },
      { 'idempotency-key': 'msg-1' },
    );
    expect(reused.status).toBe(422);
  });

  it('records the actor, the idempotency key and a valid traceparent in the event metadata', async () => {
    await startSession(gateway, KEYS.a, 'traced');
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await a().post(
      '/v1/sessions/traced/messages',
      { content: 'hi' },
      { traceparent, 'idempotency-key': 'tr-1' },
    );
    await a().post('/v1/sessions/traced/messages', { content: 'again' }, { traceparent: 'garbage' });
    const events = await gateway.store.readStream('session-tenant-a/traced', { tenantId: 'tenant-a' });
    const received = events.filter((event) => event.type === 'UserMessageReceived');
    expect(received[0]?.metadata).toMatchObject({
      traceparent,
      idempotencyKey: 'tr-1',
      actor: expect.any(String),
    });
    expect(received[1]?.metadata.traceparent).toBeUndefined();
  });

  it('returns the turn outcome with ?wait, or 202 at the deadline', async () => {
    await startSession(gateway, KEYS.a, 'waiting');
    const timedOut = await a().post('/v1/sessions/waiting/messages?wait=0.2', { content: 'first' });
    expect(timedOut.status).toBe(202);
    const waiting = a().post('/v1/sessions/waiting/messages?wait=30', { content: 'second' });
    await answerModelCall(gateway, 'tenant-a', 'waiting', 'answer one');
    await eventually('the second turn to start', async () => {
      const state = await gateway.sessions.load('tenant-a', 'waiting');
      return state?.turn !== null && state?.messages.length === 3 ? true : undefined;
    });
    await answerModelCall(gateway, 'tenant-a', 'waiting', 'answer two');
    const done = await waiting;
    expect(done.status).toBe(200);
    expect(await json(done)).toMatchObject({
      status: 'idle',
      messages: [
        { source: 'user', content: 'second' },
        { source: 'helper', role: 'assistant', content: 'answer two' },
      ],
    });
  });

  it('shows the state now and as of a version, with usage and pending work', async () => {
    await startSession(gateway, KEYS.a, 'state');
    await a().post('/v1/sessions/state/messages', { content: 'Hi' });
    const running = await json(await a().get('/v1/sessions/state'));
    expect(running).toMatchObject({ sessionId: 'state', teamId: 'support', status: 'running' });
    expect((running.pending as { modelCalls: unknown[] }).modelCalls).toHaveLength(1);
    await answerModelCall(gateway, 'tenant-a', 'state', 'Hello!');
    const idle = await json(await a().get('/v1/sessions/state'));
    expect(idle).toMatchObject({ status: 'idle', usage: { promptTokens: 5, completionTokens: 3 } });
    expect(await json(await a().get('/v1/sessions/state?at=1'))).toMatchObject({ version: 1, messages: [] });
    const beyond = (await json(await a().get('/v1/sessions/state?at=999'))) as unknown as Problem;
    expect(beyond.errors).toEqual([expect.objectContaining({ in: 'query', field: 'at' })]);
  });

  it("answers 409 to a message while a turn runs when the team's onBusy is reject; enqueue accepts it", async () => {
    const strict = { ...singleTeamSpec('strict'), onBusy: 'reject' };
    expect((await request(gateway, 'PUT', '/v1/teams/strict', { key: KEYS.a, body: strict })).status).toBe(
      200,
    );
    await a().post('/v1/sessions', { teamId: 'strict', sessionId: 'busy' });
    expect((await a().post('/v1/sessions/busy/messages', { content: 'first' })).status).toBe(202);
    const busy = await a().post('/v1/sessions/busy/messages', { content: 'second' });
    expect(busy.status).toBe(409);
    expect(((await json(busy)) as unknown as Problem).code).toBe('conflict');
    await startSession(gateway, KEYS.a, 'queue');
    expect((await a().post('/v1/sessions/queue/messages', { content: 'first' })).status).toBe(202);
    expect((await a().post('/v1/sessions/queue/messages', { content: 'second' })).status).toBe(202);
  });

  it('cancels a turn, closes the session, then refuses messages with 409', async () => {
    await startSession(gateway, KEYS.a, 'closing');
    await a().post('/v1/sessions/closing/messages', { content: 'Hi' });
    const cancelled = await a().post('/v1/sessions/closing/cancel', { reason: 'enough' });
    expect(cancelled.status).toBe(202);
    expect(await json(cancelled)).toMatchObject({ sessionId: 'closing', status: 'idle' });
    const closed = await a().post('/v1/sessions/closing/close');
    expect(await json(closed)).toMatchObject({ status: 'closed' });
    const refused = await a().post('/v1/sessions/closing/messages', { content: 'more' });
    expect(refused.status).toBe(409);
    expect(((await json(refused)) as unknown as Problem).code).toBe('conflict');
  });

  it('forks at a version, audits the log, and lists sessions by cursor', async () => {
    await a().post('/v1/sessions/main/messages', { content: 'Hello' });
    const fork = await a().post('/v1/sessions/main/fork', { atVersion: 1, sessionId: 'main-fork' });
    expect(fork.status).toBe(201);
    expect(await json(fork)).toMatchObject({ sessionId: 'main-fork', version: 1, status: 'idle' });
    const beyond = await a().post('/v1/sessions/main/fork', { atVersion: 999 });
    expect(beyond.status).toBe(400);
    const audit = await json(await a().get('/v1/sessions/main/audit'));
    expect(audit).toMatchObject({ hashChainValid: true, replayMatches: true });
    expect(audit.eventCount).toBeGreaterThan(1);
    const first = await json(await a().get('/v1/sessions?limit=2'));
    expect(first.items).toHaveLength(2);
    const second = await json(await a().get(`/v1/sessions?limit=2&cursor=${String(first.nextCursor)}`));
    expect((second.items as Json[])[0]?.sessionId).not.toBe((first.items as Json[])[1]?.sessionId);
    const bad = (await json(await a().get('/v1/sessions?cursor=zzz'))) as unknown as Problem;
    expect(bad.errors).toEqual([expect.objectContaining({ in: 'query', field: 'cursor' })]);
    const onlyB = await json(await b().get('/v1/sessions'));
    expect((onlyB.items as Json[]).map((item) => item.sessionId)).toEqual(['taken']);
  });

  it('filters the list by creation time (createdAfter inclusive, createdBefore exclusive), paged by cursor', async () => {
    for (const id of ['dated-1', 'dated-2', 'dated-3']) await startSession(gateway, KEYS.a, id);
    const all = ((await json(await a().get('/v1/sessions?limit=500'))).items as Json[]).map((item) => ({
      id: String(item.sessionId),
      at: String(item.createdAt),
    }));
    const cut = all.find((item) => item.id === 'dated-2')!.at;
    const walk = async (query: string): Promise<string[]> => {
      const ids: string[] = [];
      let cursor: unknown = null;
      do {
        const page = await json(
          await a().get(`/v1/sessions?limit=1&${query}${cursor === null ? '' : `&cursor=${String(cursor)}`}`),
        );
        ids.push(...(page.items as Json[]).map((item) => String(item.sessionId)));
        cursor = page.nextCursor;
      } while (cursor !== null);
      return ids;
    };
    const since = all.filter((item) => Date.parse(item.at) >= Date.parse(cut)).map((item) => item.id);
    expect(since).toContain('dated-3');
    expect(await walk(`createdAfter=${encodeURIComponent(cut)}`)).toEqual(since);
    expect(await walk(`createdBefore=${encodeURIComponent(cut)}`)).toEqual(
      all.filter((item) => !since.includes(item.id)).map((item) => item.id),
    );
    expect(await walk('createdAfter=2000-01-01&createdBefore=2000-01-02')).toEqual([]);
    expect(await walk('createdAfter=2000-01-01T00:00:00%2B02:00')).toEqual(all.map((item) => item.id));
    for (const [field, value] of [
      ['createdAfter', 'yesterday'],
      ['createdBefore', '2026-13-01'],
      ['createdAfter', '2026-01-01T00:00:00'],
      ['createdAfter', '0000-01-01'],
      ['createdBefore', '9999-12-31T23:59:59-05:00'],
    ] as const) {
      const response = await a().get(`/v1/sessions?${field}=${value}`);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const problem = (await json(response)) as unknown as Problem;
      expect(problem.errors).toEqual([expect.objectContaining({ in: 'query', field })]);
    }
  });

  it("answers 404 on every path of another tenant's session", async () => {
    const paths: readonly [string, string, unknown?][] = [
      ['GET', '/v1/sessions/main'],
      ['GET', '/v1/sessions/main?at=1'],
      ['GET', '/v1/sessions/main/events'],
      ['GET', '/v1/sessions/main/stream'],
      ['GET', '/v1/sessions/main/audit'],
      ['POST', '/v1/sessions/main/messages', { content: 'x' }],
      ['POST', '/v1/sessions/main/cancel'],
      ['POST', '/v1/sessions/main/close'],
      ['POST', '/v1/sessions/main/approvals/t-1', { approve: true }],
      ['POST', '/v1/sessions/main/fork', { atVersion: 1 }],
    ];
    const before = await gateway.store.readStream('session-tenant-a/main', { tenantId: 'tenant-a' });
    for (const [method, path, body] of paths) {
      const response = await request(gateway, method, path, { key: KEYS.b, body });
      expect([method, path, response.status]).toEqual([method, path, 404]);
    }
    expect(await gateway.store.readStream('session-tenant-a/main', { tenantId: 'tenant-a' })).toHaveLength(
      before.length,
    );
  });

  it('answers 404 for an approval of an unknown tool call', async () => {
    const response = await a().post('/v1/sessions/main/approvals/t-1', { approve: true });
    expect(response.status).toBe(404);
  });
});
