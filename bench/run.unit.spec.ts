import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const benchmarks = readdirSync(new URL('.', import.meta.url))
  .filter((file) => file.endsWith('.bench.ts'))
  .map((file) => file.slice(0, -'.bench.ts'.length));

describe('npm run bench -- --help', () => {
  it('prints the usage of every benchmark and runs none of them', () => {
    const output = execFileSync(
      process.execPath,
      ['--conditions=@agentledger/source', 'bench/run.ts', '--help'],
      // Unreachable services: a benchmark that ran anyway would fail, not pass quietly.
      {
        cwd: root,
        encoding: 'utf8',
        env: {
          ...process.env,
          DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none',
          KAFKA_BROKERS: '127.0.0.1:9',
        },
        timeout: 60_000,
      },
    );
    expect(benchmarks.length).toBeGreaterThanOrEqual(7);
    for (const name of benchmarks) {
      expect(output).toContain(`== bench ${name}\n`);
      expect(output).toMatch(new RegExp(`npm run bench -- ${name}\\b`));
    }
    expect(output).not.toMatch(/^\[(events|relay|kafka|turns|scale)/m);
    // A process that loads every benchmark's module: seconds on a busy CI machine (it took over 5).
  }, 60_000);
});
