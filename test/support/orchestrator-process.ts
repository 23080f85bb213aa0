import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventually } from '@agentledger/testing';

const root = fileURLToPath(new URL('../..', import.meta.url));
const mainJs = `${root}apps/orchestrator/dist/main.js`;

export type OrchestratorProcess = Readonly<{
  replicaId: string;
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  output: () => string;
}>;

/**
 * Starts `apps/orchestrator/dist/main.js` (built by `npm test`) as its own process and waits until
 * `/health/ready` answers 200 (store, relay, consumer group joined). `onSpawn` is given the child
 * at once, before it is ready (a caller that stops meanwhile can kill it).
 */
export const startOrchestratorProcess = async (
  replicaId: string,
  port: number,
  env: Readonly<Record<string, string>>,
  onSpawn?: (child: ChildProcess) => void,
): Promise<OrchestratorProcess> => {
  if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: build first (npm run build)`);
  let output = '';
  const child = spawn(process.execPath, ['--enable-source-maps', mainJs], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'warn',
      ...env,
      REPLICA_ID: replicaId,
      ORCHESTRATOR_PORT: String(port),
      NODE_NO_WARNINGS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onSpawn?.(child);
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const url = `http://127.0.0.1:${port}`;
  // A process that exits while starting fails the start at once (a supervisor may start another).
  const ready = Promise.race([
    eventually(
      `orchestrator ${replicaId} to be ready`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) return false; // settled by `exited`
        const response = await fetch(`${url}/health/ready`).catch(() => undefined);
        return response?.status === 200 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100 },
    ),
    exited.then((code) => {
      throw new Error(
        `orchestrator ${replicaId} exited with ${code} while starting: ${output.slice(-2_000)}`,
      );
    }),
  ]);
  await ready.catch((error: unknown) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw error;
  });
  return { replicaId, url, child, exited, output: () => output };
};
