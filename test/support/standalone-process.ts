import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from '@agentledger/testing';

const root = fileURLToPath(new URL('../..', import.meta.url));

export type StandaloneProcess = Readonly<{
  url: string;
  apiKey: string;
  pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
  stop: () => Promise<void>;
}>;

/**
 * The built embedded product (`apps/standalone/dist/main.js`, the scripted model) on a fresh data
 * directory and free ports; `stop` sends SIGTERM and removes the directory (also done when the
 * start fails, so no process is left behind). `env` adds operator settings. With `keptDataDir` it
 * runs on that directory instead and leaves it in place (a restart on the same data).
 */
export const startStandalone = async (
  startTimeoutMs = 270_000,
  env: Readonly<Record<string, string>> = {},
  keptDataDir?: string,
): Promise<StandaloneProcess> => {
  const dataDir = keptDataDir ?? (await mkdtemp(join(tmpdir(), 'agentledger-client-')));
  let output = '';
  const child = spawn(process.execPath, ['apps/standalone/dist/main.js'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_NO_WARNINGS: '1',
      DATA_DIR: dataDir,
      PORT: '0',
      GRPC_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    if (keptDataDir === undefined) await rm(dataDir, { recursive: true, force: true });
  };
  const url = await eventually(
    'the standalone app to print its URL',
    () => {
      if (child.exitCode !== null) throw new Error(`exited: ${output}`);
      return /REST\s+(http:\/\/\S+)/.exec(output)?.[1];
    },
    { timeoutMs: startTimeoutMs, intervalMs: 100 },
  ).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  const apiKey = (await readFile(join(dataDir, 'dev-api-key'), 'utf8')).trim();
  return { url, apiKey, pid: child.pid!, output: () => output, stop };
};
