import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const usage = `npm run bench -- verify-all [--sessions N]

Seeds DATABASE_URL (default the agentledger_verify_bench database) with N copies of the round-robin
golden session (14 events each; default 10,000) unless it already holds them, runs the built CLI's
\`verify --all --json\` against it and writes bench/results/verify-all.json: wall seconds, events/s,
CPU seconds, events per CPU-second and the machine's load average (the target: 50,000 events/s).
Build first: npx tsc -b tsconfig.build.json.`;

const root = fileURLToPath(new URL('..', import.meta.url));

/** `verify --all` throughput over a seeded database. */
export default async (flags: readonly string[]): Promise<void> => {
  if (flags.includes('--help')) {
    console.log(usage);
    return;
  }
  const at = flags.indexOf('--sessions');
  const sessions = at < 0 ? 10_000 : Number(flags[at + 1]);
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/agentledger_verify_bench';
  const env = { ...process.env, DATABASE_URL: url, SESSIONS: String(sessions) };
  const count = async (): Promise<number> => {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      const { rows } = await client.query<{ n: string }>('select count(distinct stream_id) as n from events');
      return Number(rows[0]?.n ?? 0);
    } catch {
      return 0;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  if ((await count()) < sessions) {
    const seeded = spawnSync(
      process.execPath,
      ['--conditions=@agentledger/source', 'bench/verify-all-seed.ts'],
      { cwd: root, env, stdio: 'inherit' },
    );
    if (seeded.status !== 0) throw new Error('seeding failed');
  }
  const run = spawnSync(
    process.execPath,
    ['--max-semi-space-size=64', 'apps/gateway/dist/cli.js', 'verify', '--all', '--json'],
    { cwd: root, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.status !== 0) throw new Error(`verify --all failed (${run.status}): ${run.stderr.slice(-2000)}`);
  const summary = JSON.parse(run.stdout) as Record<string, unknown>;
  const result = {
    sessions: summary.sessions,
    events: summary.events,
    seconds: summary.seconds,
    eventsPerSecond: summary.eventsPerSecond,
    sessionsPerSecond: summary.sessionsPerSecond,
    cpuSeconds: summary.cpuSeconds,
    eventsPerCpuSecond: summary.eventsPerCpuSecond,
    loadAverage: loadavg()[0],
    target: 50_000,
  };
  console.table(result);
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(
    new URL('./results/verify-all.json', import.meta.url),
    `${JSON.stringify(result, null, 2)}\n`,
  );
};
