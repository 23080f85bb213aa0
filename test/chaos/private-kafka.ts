import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

export type PrivateKafka = Readonly<{
  brokers: string;
  /** SIGKILL of the broker process (a crash: the restart recovers its logs). */
  kill: () => Promise<void>;
  start: () => Promise<void>;
  destroy: () => Promise<void>;
}>;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A single-node broker of its own through the project's `scripts/kafka.sh` (KAFKA_DIR, KAFKA_PORT,
 * KAFKA_CONTROLLER_PORT): its own data dir and ports, never the shared broker. Stopped by the pid
 * in its own pid file.
 */
export const startPrivateKafka = async (port: number, controllerPort: number): Promise<PrivateKafka> => {
  const dir = await mkdtemp(join(tmpdir(), 'agentledger-chaos-kafka-'));
  const env = {
    ...process.env,
    KAFKA_DIR: dir,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_START_TIMEOUT: '120',
  };
  const start = async () => void (await run('bash', [join(root, 'scripts/kafka.sh'), 'up'], { env }));
  const kill = async () => {
    const pid = Number((await readFile(join(dir, 'broker.pid'), 'utf8').catch(() => '0')).trim());
    if (pid <= 0 || !alive(pid)) return;
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 100));
  };
  await start();
  return {
    brokers: `127.0.0.1:${port}`,
    kill,
    start,
    destroy: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
};
