import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@agentledger/events';
import type { Problem } from '../errors/problem.ts';
import { openSse } from '../testing/sse-client.ts';
import { bearer, KEYS, startTestGateway, type TestGateway } from '../testing/test-gateway.ts';

type Page = { events: EventEnvelope[]; nextAfter: number | null };

describe('session events over REST: pages, NDJSON and SSE', () => {
  let gateway: TestGateway;
  const append = (sessionId: string, type: string, tenantId = 'tenant-a') =>
    gateway.store.append(`session-${sessionId}`, [{ type, data: { sessionId } }], {
      tenantId,
      expectedVersion: 'any',
    });

  beforeAll(async () => {
    gateway = await startTestGateway();
    for (const type of ['SessionStarted', 'UserMessageReceived', 'TurnStarted']) await append('s1', type);
  });
  afterAll(async () => {
    await gateway.close();
  });

  const get = (path: string, key: string = KEYS.a, headers: Record<string, string> = {}) =>
    fetch(`${gateway.url}${path}`, { headers: { ...bearer(key), ...headers } });

  it('pages through events with after and limit', async () => {
    const all = (await (await get('/v1/sessions/s1/events')).json()) as Page;
    expect(all.events.map((event) => event.version)).toEqual([1, 2, 3]);
    expect(all.nextAfter).toBeNull();
    expect(all.events[0]).toMatchObject({
      streamId: 'session-s1',
      tenantId: 'tenant-a',
      type: 'SessionStarted',
    });
    const first = (await (await get('/v1/sessions/s1/events?limit=2')).json()) as Page;
    expect(first.events.map((event) => event.version)).toEqual([1, 2]);
    expect(first.nextAfter).toBe(2);
    const rest = (await (await get('/v1/sessions/s1/events?after=2&limit=2')).json()) as Page;
    expect(rest).toMatchObject({ events: [{ version: 3 }], nextAfter: null });
  });

  it('streams every event as NDJSON when asked', async () => {
    const response = await get('/v1/sessions/s1/events?limit=1', KEYS.a, { accept: 'application/x-ndjson' });
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await response.text()).trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as EventEnvelope).version)).toEqual([1, 2, 3]);
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
    await append('s2', 'SessionStarted');
    await append('s2', 'UserMessageReceived');
    const first = await openSse(`${gateway.url}/v1/sessions/s2/stream`, bearer(KEYS.a));
    expect(first.status).toBe(200);
    expect(first.contentType).toMatch(/^text\/event-stream/);
    expect(await first.next()).toMatchObject({ id: '1', event: 'SessionStarted' });
    expect(await first.next()).toMatchObject({ id: '2', event: 'UserMessageReceived' });
    await append('s2', 'TurnStarted');
    const live = await first.next();
    expect(live).toMatchObject({ id: '3', event: 'TurnStarted' });
    expect(JSON.parse(live.data)).toMatchObject({ version: 3, streamId: 'session-s2', type: 'TurnStarted' });
    first.close();

    await append('s2', 'SpeakerSelected');
    const resumed = await openSse(`${gateway.url}/v1/sessions/s2/stream?after=1`, {
      ...bearer(KEYS.a),
      'last-event-id': '3',
    });
    await append('s2', 'ModelCallRequested');
    expect(await resumed.next()).toMatchObject({ id: '4', event: 'SpeakerSelected' });
    expect(await resumed.next()).toMatchObject({ id: '5', event: 'ModelCallRequested' });
    resumed.close();
  });

  it('serves many clients of one session at once', async () => {
    await append('s3', 'SessionStarted');
    const clients = await Promise.all(
      Array.from({ length: 5 }, () => openSse(`${gateway.url}/v1/sessions/s3/stream`, bearer(KEYS.a))),
    );
    for (const client of clients) expect((await client.next()).id).toBe('1');
    await append('s3', 'UserMessageReceived');
    for (const client of clients) expect((await client.next()).id).toBe('2');
    for (const client of clients) client.close();
  });
});
