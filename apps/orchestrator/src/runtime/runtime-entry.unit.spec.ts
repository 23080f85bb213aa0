import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));

/** Imports `entry` in a fresh Node process (sources, type stripping) and lists every package it resolved. */
const resolvedBy = async (entry: string): Promise<readonly string[]> => {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ resolve: (specifier, context, next) => (seen.add(specifier), next(specifier, context)) });
    await import(${JSON.stringify(entry)});
    process.stdout.write(JSON.stringify([...seen]));`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=@agentledger/source', '--no-warnings', '--input-type=module', '-e', script],
    { cwd: packageDir },
  );
  return JSON.parse(stdout) as string[];
};

// The complaint: the orchestrator's only entry point pulled in Nest. The runtime entry,
// with everything it imports transitively, must not.
describe('@agentledger/orchestrator/runtime', () => {
  it('loads no Nest package, transitively', async () => {
    const runtime = await resolvedBy('@agentledger/orchestrator/runtime');
    // The probe sees deep imports: libs/sessions, and libs/agents' own import of the canonical JSON.
    expect(runtime).toEqual(
      expect.arrayContaining(['@agentledger/sessions', '@agentledger/events/canonical']),
    );
    expect(runtime.filter((specifier) => specifier.startsWith('@nestjs/'))).toEqual([]);
  }, 60_000);
});
