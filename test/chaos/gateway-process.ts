import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventually } from '@agentledger/testing';

const root = fileURLToPath(new URL('../..', import.meta.url));
const mainJs = `${root}apps/gateway/dist/main.js`;

export type GatewayProcess = Readonly<{
  child: ChildProcess;
  exited: Promise<number | string>;
  output: () => string;
}>;

/**
 * The built gateway (`apps/gateway/dist/main.js`) on fixed ports, so a restarted gateway answers
 * where clients already point; resolves once it printed its URL (store migrated, keys seeded).
 */
export const startGatewayProcess = async (
  env: Readonly<Record<string, string>>,
  onSpawn?: (child: ChildProcess) => void,
): Promise<GatewayProcess> => {
  if (!existsSync(mainJs))
    throw new Error(`${mainJs} is missing: build first (npx tsc -b tsconfig.build.json)`);
  let output = '';
  const child = spawn(process.execPath, ['--enable-source-maps', mainJs], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onSpawn?.(child);
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-200_000)));
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-200_000)));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const ready = Promise.race([
    eventually(
      'the gateway to listen',
      () => (child.exitCode !== null || /AgentLedger gateway: http/.test(output) ? true : undefined),
      {
        timeoutMs: 90_000,
        intervalMs: 100,
      },
    ),
    exited.then((code) => {
      throw new Error(`gateway exited with ${code} while starting: ${output.slice(-2_000)}`);
    }),
  ]);
  await ready.catch((error: unknown) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw error;
  });
  return { child, exited, output: () => output };
};
