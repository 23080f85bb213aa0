import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../errors/problem.ts';
import {
  KEYS,
  request,
  singleTeamSpec,
  startSession,
  startTestGateway,
  type TestGateway,
} from '../testing/test-gateway.ts';

describe('readiness, scopes and request metrics', () => {
  let gateway: TestGateway;
  let storeUp = true;
  beforeAll(async () => {
    gateway = await startTestGateway({
      readiness: [
        {
          name: 'event-store',
          check: async () => {
            if (!storeUp) throw new Error('connection refused');
          },
        },
      ],
    });
    await startSession(gateway, KEYS.a, 'scoped');
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('answers 503 naming the failing check, 200 once it passes; liveness stays 200', async () => {
    storeUp = false;
    const down = await fetch(`${gateway.url}/health/ready`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({
      status: 'unavailable',
      checks: { 'event-store': 'connection refused' },
    });
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
    storeUp = true;
    expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200);
  });

  it('lets a read-only key read, and answers 403 naming the scope it lacks', async () => {
    expect((await request(gateway, 'GET', '/v1/sessions/scoped', { key: KEYS.readOnly })).status).toBe(200);
    const refused = await request(gateway, 'POST', '/v1/sessions/scoped/messages', {
      key: KEYS.readOnly,
      body: { content: 'hi' },
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as Problem).detail).toContain('sessions:write');
    const team = await request(gateway, 'PUT', '/v1/teams/other', {
      key: KEYS.readOnly,
      body: singleTeamSpec(),
    });
    expect(team.status).toBe(403);
  });

  it('counts requests by route pattern and status', async () => {
    await request(gateway, 'GET', '/v1/sessions/scoped', { key: KEYS.a });
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(
      /agentledger_gateway_http_requests_total\{method="GET",route="\/v1\/sessions\/:id",status="200"\} \d+/,
    );
  });
});
