import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@agentledger/events';
import type { Problem } from '../errors/problem.ts';
import { openSse, type SseFrame } from '../testing/sse-client.ts';
import {
  answerModelCall,
  bearer,
  KEYS,
  request,
  startSession,
  startTestGateway,
  type TestGateway,
} from '../testing/test-gateway.ts';

type Page = { events: EventEnvelope[]; nextAfter: number | null };

describe('session events over REST: pages, NDJSON and SSE', () => {
  let gateway: TestGateway;
  const post = (sessionId: string, content: string) =>
    request(gateway, 'POST', `/v1/sessions/${sessionId}/messages`, { key: KEYS.a, body: { content } });
  const versionOf = async (sessionId: string): Promise<number> => {
    const page = (await (await get(`/v1/sessions/${sessionId}/events?limit=1000`)).json()) as Page;
    return page.events.length;
  };

  beforeAll(async () => {
    gateway = await startTestGateway();
    await startSession(gateway, KEYS.a, 's1');
    expect((await post('s1', 'Hello')).status).toBe(202);
  });
  afterAll(async () => {
    await gateway.close();
  });

  const get = (path: string, key: string = KEYS.a, headers: Record<string, string> = {}) =>
    fetch(`${gateway.url}${path}`, { headers: { ...bearer(key), ...headers } });

  it('pages through events with after and limit', async () => {
    const all = (await (await get('/v1/sessions/s1/events')).json()) as Page;
    const count = all.events.length;
    expect(count).toBeGreaterThanOrEqual(3);
    expect(all.events.map((event) => event.version)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(all.nextAfter).toBeNull();
    expect(all.events[0]).toMatchObject({
      streamId: 'session-tenant-a/s1',
      tenantId: 'tenant-a',
      type: 'SessionStarted',
    });
    expect(all.events[1]).toMatchObject({ type: 'UserMessageReceived', data: { content: 'Hello' } });
    const first = (await (await get('/v1/sessions/s1/events?limit=2')).json()) as Page;
    expect(first.events.map((event) => event.version)).toEqual([1, 2]);
    expect(first.nextAfter).toBe(2);
    const rest = (await (await get(`/v1/sessions/s1/events?after=2&limit=${count}`)).json()) as Page;
    expect(rest.events.map((event) => event.version)[0]).toBe(3);
    expect(rest.nextAfter).toBeNull();
  });

  it('streams every event as NDJSON when asked', async () => {
    const count = await versionOf('s1');
    const response = await get('/v1/sessions/s1/events?limit=1', KEYS.a, { accept: 'application/x-ndjson' });
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await response.text()).trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as EventEnvelope).version)).toEqual(
      Array.from({ length: count }, (_, i) => i + 1),
    );
  });

  it('answers 404 for another tenant and for an unknown session, on every read path', async () => {
    for (const path of ['/v1/sessions/s1/events', '/v1/sessions/s1/stream', '/v1/sessions/nope/events']) {
      const response = await get(path, path.includes('nope') ? KEYS.a : KEYS.b);
      expect(response.status).toBe(404);
      expect(((await response.json()) as Problem).code).toBe('not-found');
    }
  });

  it('answers 400 naming a bad query or header', async () => {
    const limit = (await (await get('/v1/sessions/s1/events?limit=0')).json()) as Problem;
    expect(limit.errors).toEqual([expect.objectContaining({ in: 'query', field: 'limit' })]);
    const header = (await (
      await get('/v1/sessions/s1/stream', KEYS.a, { 'last-event-id': 'x' })
    ).json()) as Problem;
    expect(header.errors).toEqual([expect.objectContaining({ in: 'header', field: 'last-event-id' })]);
  });

  it('replays then follows over SSE; a reconnect with Last-Event-ID misses nothing and repeats nothing', async () => {
    await startSession(gateway, KEYS.a, 's2');
    const first = await openSse(`${gateway.url}/v1/sessions/s2/stream`, bearer(KEYS.a));
    expect(first.status).toBe(200);
    expect(first.contentType).toMatch(/^text\/event-stream/);
    expect(await first.next()).toMatchObject({ id: '1', event: 'SessionStarted' });
    await post('s2', 'one');
    const live = await first.next();
    expect(live).toMatchObject({ id: '2', event: 'UserMessageReceived' });
    expect(JSON.parse(live.data)).toMatchObject({
      version: 2,
      streamId: 'session-tenant-a/s2',
      data: { content: 'one' },
    });
    first.close();

    await post('s2', 'two');
    const total = await versionOf('s2');
    const resumed = await openSse(`${gateway.url}/v1/sessions/s2/stream?after=1`, {
      ...bearer(KEYS.a),
      'last-event-id': '2',
    });
    const seen: string[] = [];
    for (let version = 3; version <= total; version += 1) seen.push((await resumed.next()).id ?? '');
    expect(seen).toEqual(Array.from({ length: total - 2 }, (_, i) => String(i + 3)));
    await request(gateway, 'POST', '/v1/sessions/s2/close', { key: KEYS.a });
    const closing = await resumed.next();
    expect(Number(closing.id)).toBe(total + 1);
    resumed.close();
  });

  it('resumes in the middle of a turn: the reconnected client gets the rest of the turn exactly once', async () => {
    await startSession(gateway, KEYS.a, 's5');
    const first = await openSse(`${gateway.url}/v1/sessions/s5/stream`, bearer(KEYS.a));
    await post('s5', 'What is up?');
    const before: SseFrame[] = [];
    while (before.at(-1)?.event !== 'ModelCallRequested') before.push(await first.next());
    first.close();
    const lastSeen = before.at(-1)?.id ?? '0';

    await answerModelCall(gateway, 'tenant-a', 's5', 'All good.');
    const resumed = await openSse(`${gateway.url}/v1/sessions/s5/stream`, {
      ...bearer(KEYS.a),
      'last-event-id': lastSeen,
    });
    const after: SseFrame[] = [];
    while (after.at(-1)?.event !== 'TurnCompleted') after.push(await resumed.next());
    resumed.close();

    const ids = [...before, ...after].map((frame) => Number(frame.id));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    expect(after.map((frame) => frame.event)).toContain('AgentMessageEmitted');
  });

  it('serves many clients of one session at once', async () => {
    await startSession(gateway, KEYS.a, 's3');
    const clients = await Promise.all(
      Array.from({ length: 5 }, () => openSse(`${gateway.url}/v1/sessions/s3/stream`, bearer(KEYS.a))),
    );
    for (const client of clients) expect((await client.next()).id).toBe('1');
    await post('s3', 'hi');
    for (const client of clients)
      expect(await client.next()).toMatchObject({ id: '2', event: 'UserMessageReceived' });
    for (const client of clients) client.close();
  });
});
