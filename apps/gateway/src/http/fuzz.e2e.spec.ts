import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  KEYS,
  request,
  startSession,
  startTestGateway,
  type TestGateway,
} from '../testing/test-gateway.ts';

const endpoints: readonly (readonly [string, string])[] = [
  ['PUT', '/v1/teams/{id}'],
  ['GET', '/v1/teams/{id}'],
  ['POST', '/v1/sessions'],
  ['GET', '/v1/sessions'],
  ['GET', '/v1/sessions/{id}'],
  ['POST', '/v1/sessions/{id}/messages'],
  ['GET', '/v1/sessions/{id}/events'],
  ['GET', '/v1/sessions/{id}/stream'],
  ['POST', '/v1/sessions/{id}/cancel'],
  ['POST', '/v1/sessions/{id}/close'],
  ['POST', '/v1/sessions/{id}/approvals/{id}'],
  ['POST', '/v1/sessions/{id}/fork'],
  ['GET', '/v1/sessions/{id}/audit'],
];

const ascii = (max: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: max,
  });

const ids = fc.oneof(
  { arbitrary: fc.constantFrom('fuzz', 'support'), weight: 4 },
  fc.constantFrom('nope', '-x', '..', '%2e%2e', 'a'.repeat(129), 'a b', 'ü', '%00', '%ZZ', ''),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  ascii(20).map(encodeURIComponent),
);

const queries = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?wait=abc',
    '?wait=-1',
    '?wait=1e9',
    '?wait=0.01',
    '?after=-1',
    '?after=x',
    '?limit=0',
    '?limit=1e6',
  ),
  fc.constantFrom(
    '?at=0',
    '?at=abc',
    '?at=99999',
    '?cursor=zzz',
    '?status=weird',
    '?teamId=-x',
    '?limit=2&after=1',
  ),
  fc
    .dictionary(ascii(8), ascii(12), { maxKeys: 3 })
    .map((entries) => `?${new URLSearchParams(entries).toString()}`),
);

const bodies = fc.oneof(
  fc.constant(undefined),
  fc.json().map((text) => text),
  fc.anything().map((value) => JSON.stringify(value) ?? 'null'),
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    '{',
    '{"content":',
    '[]',
    'null',
    '""',
    '{"__proto__":{"a":1}}',
    '{"constructor":{"prototype":{}}}',
  ),
  fc
    .record(
      { content: fc.anything(), teamId: fc.anything(), sessionId: fc.anything(), atVersion: fc.anything() },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  fc
    .record({ approve: fc.anything(), reason: fc.anything() }, { requiredKeys: [] })
    .map((value) => JSON.stringify(value)),
  fc.integer({ min: 1, max: 40 }).map((depth) => `${'['.repeat(depth * 100)}${']'.repeat(depth * 100)}`),
);

const headers = fc.record(
  {
    authorization: fc.oneof(
      { arbitrary: fc.constant(`Bearer ${KEYS.a}`), weight: 6 },
      { arbitrary: fc.constant(`Bearer ${KEYS.b}`), weight: 2 },
      { arbitrary: fc.constantFrom('Bearer', 'Basic x', `bearer  ${KEYS.a}  `, 'Bearer nope'), weight: 1 },
      { arbitrary: ascii(60), weight: 1 },
    ),
    'content-type': fc.oneof(
      { arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8'), weight: 6 },
      {
        arbitrary: fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data', '*/*'),
        weight: 1,
      },
      { arbitrary: ascii(30), weight: 1 },
    ),
    'idempotency-key': fc.oneof(fc.constantFrom('k-1', 'has space', 'x'.repeat(300), ''), ascii(40)),
    'last-event-id': fc.oneof(fc.constantFrom('0', '-1', 'abc', '99999999999999999999'), ascii(10)),
    accept: fc.constantFrom('application/json', 'application/x-ndjson', 'text/event-stream', '*/*'),
  },
  { requiredKeys: [] },
);

describe('fuzz: random and malformed requests at every endpoint', () => {
  let gateway: TestGateway;
  // The committed head moves with any append (a count of readAll may stop short under load).
  const logHead = (): Promise<number> => gateway.store.committedHead();

  beforeAll(async () => {
    gateway = await startTestGateway();
    await startSession(gateway, KEYS.a, 'fuzz');
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('never answers 5xx and stores nothing for a rejected request', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...endpoints),
        ids,
        ids,
        queries,
        headers,
        bodies,
        async ([method, template], first, second, query, requestHeaders, body) => {
          let path = template.replace('{id}', first).replace('{id}', second);
          if (!path.startsWith('/')) path = `/${path}`;
          const before = await logHead();
          const abort = new AbortController();
          let response: Response;
          try {
            response = await fetch(`${gateway.url}${path}${query}`, {
              method,
              headers: requestHeaders,
              ...(body === undefined || method === 'GET' ? {} : { body }),
              signal: abort.signal,
            });
          } catch (error) {
            if (error instanceof TypeError) return; // a request fetch itself refuses to send
            throw error;
          }
          const status = response.status;
          abort.abort();
          expect(status, `${method} ${path}${query}`).toBeLessThan(500);
          // A refused request writes nothing (a successful one may).
          const written = (await logHead()) - before;
          expect(status >= 400 ? written : 0, `${method} ${path}${query} ${status}`).toBe(0);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("answers 429 with Retry-After past a tenant's rate limit, other tenants unaffected", async () => {
    const limited = await startTestGateway({ options: { rateLimit: { requestsPerSecond: 0.5, burst: 3 } } });
    try {
      const statuses: number[] = [];
      for (let index = 0; index < 4; index += 1) {
        statuses.push((await request(limited, 'GET', '/v1/teams/none', { key: KEYS.a })).status);
      }
      expect(statuses).toEqual([404, 404, 404, 429]);
      const refused = await request(limited, 'GET', '/v1/teams/none', { key: KEYS.a });
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await refused.json()).toMatchObject({ status: 429, code: 'rate-limited' });
      expect((await fetch(`${limited.url}/v1/teams/none`, { headers: bearer(KEYS.b) })).status).toBe(404);
      expect((await fetch(`${limited.url}/health/live`)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
