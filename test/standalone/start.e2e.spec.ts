import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '@agentledger/testing';

const root = fileURLToPath(new URL('../..', import.meta.url));

type Running = { child: ChildProcess; output: () => string; exited: Promise<number | string> };

const run = (args: readonly string[], env: Readonly<Record<string, string>>): Running => {
  let output = '';
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return { child, output: () => output, exited };
};

// `npm start` (the embedded product) and `npm run demo`, as a user runs them: the built app as a
// process on a fresh data directory, the demo against it, then a second start on the same data.
describe('npm start and npm run demo', () => {
  let dataDir: string;
  const env = () => ({ DATA_DIR: dataDir, PORT: '0', GRPC_PORT: '0' });

  const start = async (): Promise<Running & { url: string }> => {
    const app = run(['apps/standalone/dist/main.js'], env());
    // The banner's lines may arrive in separate chunks: its last line says all of it is out.
    const url = await eventually(
      'the product to print its banner',
      () => {
        if (app.child.exitCode !== null) throw new Error(`exited: ${app.output()}`);
        if (!app.output().includes('Try it: npm run demo')) return undefined;
        return /REST\s+(http:\/\/\S+)/.exec(app.output())?.[1];
      },
      { timeoutMs: 90_000, intervalMs: 100 },
    );
    return { ...app, url };
  };

  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts on PGlite, runs the demo conversation, and reuses its data on the next start', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'agentledger-start-'));
    const first = await start();
    expect(first.output()).toMatch(/docs\s+http:\/\/\S+\/docs/);
    expect(first.output()).toMatch(/API key\s+al_dev_/);
    expect(first.output()).toMatch(/model\s+scripted/);
    expect(first.output()).toMatch(/teams\s+support-team/);

    const demo = run(['scripts/demo.ts'], { AGENTLEDGER_URL: first.url, DATA_DIR: dataDir });
    expect(await demo.exited).toBe(0);
    expect(demo.output()).toContain('user: What is 12 * 3?');
    expect(demo.output()).toContain('support_agent calls calculator({"a":12,"b":3,"operator":"*"})');
    expect(demo.output()).toContain('→ 36');
    expect(demo.output()).toMatch(/\[TurnCompleted/);
    const sessionId = /session (\S+) on team/.exec(demo.output())![1]!;

    // A second process on the same data directory is refused while the first runs.
    const intruder = run(['apps/standalone/dist/main.js'], env());
    expect(await intruder.exited).toBe(1);
    expect(intruder.output()).toMatch(/in use by process/);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const key = (await readFile(join(dataDir, 'dev-api-key'), 'utf8')).trim();
    const second = await start();
    try {
      expect(second.output()).toContain(key);
      const response = await fetch(`${second.url}/v1/sessions/${sessionId}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(response.status).toBe(200);
      const state = (await response.json()) as { status: string; messages: { content: string }[] };
      expect(state.status).toBe('idle');
      expect(state.messages.map((m) => m.content)).toContain('Done: 36. TERMINATE');
      // the audit page ships built with the product (vite build in `npm start` and `npm test`)
      const audit = await fetch(`${second.url}/audit/`);
      expect(audit.status).toBe(200);
      expect(audit.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await audit.text()).toContain('<div id="app"></div>');
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });
});
