import { describe, expect, it } from 'vitest';
import { backoffMs, deliveryIdOf, matchTypesOf, webhookPayload } from './webhook-events.ts';
import { urlProblem } from './webhook-url.ts';

describe('webhook delivery rules', () => {
  it('derives the delivery id from tenant, endpoint and event only', () => {
    const id = deliveryIdOf('t', 'ep', 'e-1');
    expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(deliveryIdOf('t', 'ep', 'e-1')).toBe(id);
    expect(
      new Set([
        id,
        deliveryIdOf('u', 'ep', 'e-1'),
        deliveryIdOf('t', 'ep2', 'e-1'),
        deliveryIdOf('t', 'ep', 'e-2'),
      ]).size,
    ).toBe(4);
  });

  it('backs off exponentially up to the cap', () => {
    const policy = { initialBackoffMs: 100, maxBackoffMs: 1_000, retryPeriodMs: 10_000 };
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffMs(policy, n))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('maps statuses to the events that enter them', () => {
    expect(matchTypesOf(['TurnFailed'], ['awaiting_approval', 'idle'])).toEqual([
      'ToolApprovalRequested',
      'TurnCancelled',
      'TurnCompleted',
      'TurnFailed',
    ]);
  });

  it('sends the session id, version and envelope in a Standard Webhooks body', () => {
    const body = JSON.parse(
      webhookPayload(
        {
          eventId: 'e',
          streamId: 'session-t/s-1',
          tenantId: 't',
          version: 3,
          globalPosition: 9,
          type: 'TurnCompleted',
          schemaVersion: 1,
          data: {},
          metadata: {},
          recordedAt: '2026-01-01T00:00:00.000Z',
          prevHash: 'p',
          hash: 'h',
        },
        'ep',
        'msg_1',
      ),
    ) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'TurnCompleted',
      timestamp: '2026-01-01T00:00:00.000Z',
      data: { deliveryId: 'msg_1', endpointId: 'ep', sessionId: 's-1', version: 3, event: { eventId: 'e' } },
    });
  });

  it('refuses non-public literal hosts unless the operator allows them', () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://[fe80::1]/',
      'http://0x7f.1/',
      'http://a.localhost/',
      'http://[::ffff:a9fe:a9fe]/',
    ])
      expect(urlProblem(url, false)).toMatch(/private/);
    expect(urlProblem('http://127.0.0.1/', true)).toBeUndefined();
    expect(urlProblem('https://hooks.example.com/x', false)).toBeUndefined();
    expect(urlProblem('https://u@hooks.example.com/', true)).toMatch(/credentials/);
    expect(urlProblem('gopher://hooks.example.com/', true)).toMatch(/http/);
  });
});
