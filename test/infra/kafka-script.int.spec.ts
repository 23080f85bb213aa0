import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// scripts/kafka.sh refuses a taken port before it touches Java or Maven, naming the variable that
// moves it: a second broker beside the first only needs KAFKA_PORT (the controller follows at +1).
const script = new URL('../../scripts/kafka.sh', import.meta.url).pathname;

const listen = (port: number): Promise<Server | undefined> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
const portOf = (server: Server): number => (server.address() as { port: number }).port;
const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** A listening server on some port P whose neighbour P-1 is free (checked, then released). */
const takenWithFreeNeighbour = async (): Promise<Server> => {
  for (;;) {
    const taken = await listen(0);
    if (taken === undefined) continue;
    const neighbour = portOf(taken) > 1024 ? await listen(portOf(taken) - 1) : undefined;
    if (neighbour !== undefined) {
      await close(neighbour);
      return taken;
    }
    await close(taken);
  }
};

/**
 * `kafka.sh up` in a private KAFKA_DIR with only `dirname` on the PATH: a refusal needs nothing
 * else, and a script that failed to refuse could not fetch jars or start a broker (no java, mvn).
 */
const up = async (env: Record<string, string>): Promise<{ code: number; stderr: string }> => {
  const dir = await mkdtemp(join(tmpdir(), 'kafka-script-'));
  try {
    await mkdir(join(dir, 'bin'));
    await symlink(
      execFileSync('sh', ['-c', 'command -v dirname'], { encoding: 'utf8' }).trim(),
      join(dir, 'bin', 'dirname'),
    );
    return await new Promise((resolve) => {
      execFile(
        '/bin/bash',
        [script, 'up'],
        { env: { PATH: join(dir, 'bin'), ...env, KAFKA_DIR: dir } },
        (error, _out, stderr) => resolve({ code: typeof error?.code === 'number' ? error.code : 0, stderr }),
      );
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

describe('scripts/kafka.sh on taken ports', () => {
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    taken = await takenWithFreeNeighbour();
    port = portOf(taken);
  });
  afterAll(() => close(taken));

  it('names KAFKA_PORT when the broker port is taken', async () => {
    expect(await up({ KAFKA_PORT: String(port) })).toEqual({
      code: 1,
      stderr: `[kafka] error: port ${port} (KAFKA_PORT) is taken by another process: stop it or set KAFKA_PORT to a free port\n`,
    });
  });

  it('derives the controller port from KAFKA_PORT and names both variables when it is taken', async () => {
    expect(await up({ KAFKA_PORT: String(port - 1) })).toEqual({
      code: 1,
      stderr:
        `[kafka] error: controller port ${port} (KAFKA_CONTROLLER_PORT, by default KAFKA_PORT+1) is taken by ` +
        'another process: set KAFKA_PORT or KAFKA_CONTROLLER_PORT to a free port\n',
    });
  });

  it('names KAFKA_CONTROLLER_PORT when an explicit controller port is taken', async () => {
    expect(await up({ KAFKA_PORT: String(port - 1), KAFKA_CONTROLLER_PORT: String(port) })).toEqual({
      code: 1,
      stderr: `[kafka] error: controller port ${port} (KAFKA_CONTROLLER_PORT) is taken by another process: set KAFKA_CONTROLLER_PORT to a free port\n`,
    });
  });
});
