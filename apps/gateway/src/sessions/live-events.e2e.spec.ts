import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '@agentledger/events';
import { openSse, type SseFrame } from '../testing/sse-client.ts';
import {
  bearer,
  KEYS,
  request,
  startSession,
  startTestGateway,
  type TestGateway,
} from '../testing/test-gateway.ts';
import { createStoreLiveEvents, type LiveEvents } from '@agentledger/sessions';

/** A deadline, not a sleep: fails the wait if the frame takes longer than polling would allow. */
const within = <T>(ms: number, work: Promise<T>): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no frame within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
};

describe('live streams wake on commits instead of polling', () => {
  let gateway: TestGateway;
  let live: LiveEvents;
  beforeAll(async () => {
    const store = createInMemoryEventStore();
    live = createStoreLiveEvents(store, 'gateway-live-test');
    gateway = await startTestGateway({
      eventStore: store,
      liveEvents: live,
      options: { rateLimit: { requestsPerSecond: 1000, burst: 1000 }, streamPollIntervalMs: 120_000 },
    });
  });
  afterAll(async () => {
    await gateway.close();
    await live.close();
  });

  it('delivers a new event at once although the fallback poll is two minutes', async () => {
    await startSession(gateway, KEYS.a, 'live-1');
    const stream = await openSse(`${gateway.url}/v1/sessions/live-1/stream`, bearer(KEYS.a));
    expect(await stream.next()).toMatchObject({ id: '1' });
    const frames: SseFrame[] = [];
    for (const content of ['one', 'two']) {
      await request(gateway, 'POST', '/v1/sessions/live-1/messages', { key: KEYS.a, body: { content } });
      frames.push(await within(5_000, stream.next()));
    }
    expect(frames[0]).toMatchObject({ id: '2', event: 'UserMessageReceived' });
    expect(Number(frames[1]?.id)).toBeGreaterThan(2);
    stream.close();
  });
});
