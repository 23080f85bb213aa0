import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type PrivatePostgres = Readonly<{
  url: string;
  port: number;
  /** `pg_ctl stop -m immediate`: the server dies as in a crash (no checkpoint, WAL replay at start). */
  kill: () => Promise<void>;
  start: () => Promise<void>;
  destroy: () => Promise<void>;
}>;

/** The machine's PostgreSQL binaries: `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin. */
const binDir = async (): Promise<string> => {
  const fromConfig = await run('pg_config', ['--bindir']).then(
    ({ stdout }) => stdout.trim(),
    () => '',
  );
  if (fromConfig !== '' && existsSync(join(fromConfig, 'initdb'))) return fromConfig;
  for (const version of ['18', '17', '16', '15', '14']) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  throw new Error('PostgreSQL binaries (initdb, pg_ctl) not found: install the server package');
};

/**
 * A Postgres server of its own (initdb into a temp dir, a free port, trust auth), so the chaos run
 * can kill it without touching the shared server. As root, the server runs as the `postgres` user
 * (initdb refuses root).
 */
export const startPrivatePostgres = async (port: number): Promise<PrivatePostgres> => {
  const bin = await binDir();
  const dir = await mkdtemp(join(tmpdir(), 'agentledger-chaos-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const exec = (tool: string, args: readonly string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args])
      : run(join(bin, tool), [...args]);
  await mkdir(data);
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    await chown(data, Number(stdout.trim()), Number(gid.trim()));
  }
  await exec('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=200',
    '-c fsync=off',
    '-c full_page_writes=off',
  ].join(' ');
  const start = async () =>
    void (await exec('pg_ctl', [
      '-D',
      data,
      '-o',
      options,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      'start',
    ]));
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/agentledger`,
    port,
    kill: async () => void (await exec('pg_ctl', ['-D', data, '-m', 'immediate', 'stop'])),
    start,
    destroy: async () => {
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
};
