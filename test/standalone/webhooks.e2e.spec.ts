import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgentLedgerClient } from '@agentledger/client';
import { eventually } from '@agentledger/testing';
import { startWebhookReceiver } from '../webhooks/webhook-receiver.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

type Running = {
  child: ChildProcess;
  output: () => string;
  exited: Promise<unknown>;
  url: string;
  key: string;
};

// `npm start` fans webhooks out from its relay's batches (one reader of the log): a business system
// registers an endpoint and receives each turn's completion once, across a restart of the process.
describe('webhooks in the embedded product', () => {
  let dataDir: string | undefined;
  let app: Running | undefined;
  let secret = '';
  const receiverReady = startWebhookReceiver(() => secret);

  const start = async (): Promise<Running> => {
    let output = '';
    const child = spawn(process.execPath, ['apps/standalone/dist/main.js'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_NO_WARNINGS: '1',
        DATA_DIR: dataDir!,
        PORT: '0',
        GRPC_PORT: '0',
        // the receiver is on 127.0.0.1: the operator allows private addresses for this deployment
        WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
        WEBHOOK_POLL_INTERVAL_MS: '200',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const printed = (pattern: RegExp, what: string) =>
      eventually(
        what,
        () => {
          if (child.exitCode !== null) throw new Error(`exited: ${output}`);
          return pattern.exec(output)?.[1];
        },
        { timeoutMs: 90_000, intervalMs: 100 },
      );
    const url = await printed(/REST\s+(http:\/\/\S+)/, 'the product to print its URL');
    const key = await printed(/API key\s+(\S+)/, 'the development key');
    return { child, output: () => output, exited, url, key };
  };

  const turn = async (running: Running, sessionId: string): Promise<void> => {
    const call = (path: string, body: unknown) =>
      fetch(`${running.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${running.key}`, 'content-type': 'application/json' },
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
    if (app && app.child.exitCode === null) app.child.kill('SIGKILL');
    await (await receiverReady).close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('delivers each turn completion once, signed, before and after a restart', async () => {
    const receiver = await receiverReady;
    dataDir = await mkdtemp(join(tmpdir(), 'agentledger-webhooks-'));
    app = await start();
    const created = await createAgentLedgerClient({ baseUrl: app.url, apiKey: app.key }).putWebhook('crm', {
      url: receiver.url,
      events: ['TurnCompleted'],
    });
    secret = created.secret!;
    await turn(app, 'w-1');
    await turn(app, 'w-2');
    expect((await completions(['w-1', 'w-2'])).map((w) => [w.sessionId, w.type]).sort()).toEqual([
      ['w-1', 'TurnCompleted'],
      ['w-2', 'TurnCompleted'],
    ]);

    app.child.kill('SIGTERM');
    await app.exited;
    app = await start();
    await turn(app, 'w-3');
    await completions(['w-1', 'w-2', 'w-3']);
    // Let a redelivery show if there were one, then count: one delivery per completion.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const ids = new Set(receiver.acknowledged.map((w) => w.id));
    expect(receiver.acknowledged.map((w) => w.sessionId).sort()).toEqual(['w-1', 'w-2', 'w-3']);
    expect(ids.size).toBe(3);
    expect(receiver.rejected()).toBe(0);
  }, 240_000);
});
