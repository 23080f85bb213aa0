import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually } from '@agentledger/testing';

const root = fileURLToPath(new URL('../..', import.meta.url));

export type GatewayProcess = Readonly<{
  url: string;
  grpcAddress: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
  stop: () => Promise<void>;
}>;

/**
 * The built gateway (`apps/gateway/dist/main.js`) as its own process on free ports, waited for
 * until its start line names its REST and gRPC addresses.
 */
export const startGatewayProcess = async (env: Readonly<Record<string, string>>): Promise<GatewayProcess> => {
  let output = '';
  const child = spawn(process.execPath, ['apps/gateway/dist/main.js'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', PORT: '0', GRPC_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const { url, grpcAddress } = await eventually(
    'the gateway to listen',
    () => {
      if (child.exitCode !== null) throw new Error(`gateway exited: ${output}`);
      const found = /AgentLedger gateway: (http:\/\/\S+) .*gRPC (\S+?)\)/.exec(output);
      return found ? { url: found[1]!, grpcAddress: found[2]! } : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  ).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { url, grpcAddress, output: () => output, stop };
};
