import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgentLedgerClient } from '@agentledger/client';
import { eventually } from '@agentledger/testing';
import { startStandalone, type StandaloneProcess } from '../support/standalone-process.ts';
import { startWebhookReceiver } from '../webhooks/webhook-receiver.ts';

// `npm start` fans webhooks out from its relay's batches (one reader of the log): a business system
// registers an endpoint and receives each turn's completion once, across a restart of the process.
describe('webhooks in the embedded product', () => {
  let dataDir: string | undefined;
  let app: StandaloneProcess | undefined;
  let secret = '';
  const receiverReady = startWebhookReceiver(() => secret);
  const start = () =>
    startStandalone(
      90_000,
      // the receiver is on 127.0.0.1: the operator allows private addresses for this deployment
      { WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true', WEBHOOK_POLL_INTERVAL_MS: '200' },
      dataDir,
    );

  const turn = async (running: StandaloneProcess, sessionId: string): Promise<void> => {
    const call = (path: string, body: unknown) =>
      fetch(`${running.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${running.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await call('/v1/sessions', { teamId: 'support-team', sessionId })).status).toBe(201);
    const answered = await call(`/v1/sessions/${sessionId}/messages?wait=60`, { content: 'What is 12 * 3?' });
    expect(answered.status).toBe(200);
  };

  const completions = async (sessions: readonly string[]) => {
    const receiver = await receiverReady;
    return eventually(
      `the turn completions of ${sessions.join(', ')}`,
      () => {
        const got = receiver.acknowledged.filter((w) => sessions.includes(w.sessionId));
        return got.length >= sessions.length ? got : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  };

  afterAll(async () => {
    await app?.stop();
    await (await receiverReady).close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('delivers each turn completion after the endpoint was made once, signed, before and after a restart', async () => {
    const receiver = await receiverReady;
    dataDir = await mkdtemp(join(tmpdir(), 'agentledger-webhooks-'));
    app = await start();
    // A turn before the endpoint exists: the fan-out has read (and keeps) the tenant's endpoints,
    // none; creating one below must reach it (the endpoint write's notification), or w-1 is lost.
    await turn(app, 'w-0');
    const created = await createAgentLedgerClient({ baseUrl: app.url, apiKey: app.apiKey }).putWebhook(
      'crm',
      {
        url: receiver.url,
        events: ['TurnCompleted'],
      },
    );
    secret = created.secret!;
    await turn(app, 'w-1');
    await turn(app, 'w-2');
    expect((await completions(['w-1', 'w-2'])).map((w) => [w.sessionId, w.type]).sort()).toEqual([
      ['w-1', 'TurnCompleted'],
      ['w-2', 'TurnCompleted'],
    ]);

    await app.stop();
    app = await start();
    await turn(app, 'w-3');
    await completions(['w-1', 'w-2', 'w-3']);
    // Let a redelivery show if there were one, then count: one delivery per completion.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver.acknowledged.map((w) => w.sessionId).sort()).toEqual(['w-1', 'w-2', 'w-3']);
    expect(new Set(receiver.acknowledged.map((w) => w.id)).size).toBe(3);
    expect(receiver.rejected()).toBe(0);
  }, 240_000);
});
