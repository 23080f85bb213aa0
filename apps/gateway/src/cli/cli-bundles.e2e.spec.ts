import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const golden = fileURLToPath(
  new URL('../../../../libs/sessions/src/audit/__golden__/swarm-handoff-approval.v1.ndjson', import.meta.url),
);
const dataDir = mkdtempSync(join(tmpdir(), 'agentledger-cli-bundles-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** The built CLI (`agentledger`), against the embedded data directory. */
const cli = (args: readonly string[], input?: string) => {
  const run = spawnSync(process.execPath, ['apps/gateway/dist/cli.js', ...args, '--data-dir', dataDir], {
    cwd: root,
    input,
    encoding: 'utf8',
    env: {
      ...process.env,
      AGENTLEDGER_AUDIT_PUBLIC_KEY: readFileSync(golden.replace(/[^/]+$/, 'golden-2026.pub.pem'), 'utf8'),
      AGENTLEDGER_AUDIT_KEY_ID: 'golden-2026',
    },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
};

// Four CLI processes one after another, each starting Node and the embedded PGlite (WebAssembly) and
// migrating: 10–20 s each on a quiet 2-core machine, past 120 s together when two test runs share it
// (both runs of a concurrent pair timed out there). A generous bound: the test waits on the processes.
describe('agentledger export/import into the embedded data directory', { timeout: 600_000 }, () => {
  it('refuses a changed byte naming the version, then imports with the same hashes and exports the same bytes', () => {
    const bundle = readFileSync(golden, 'utf8');
    const tampered = bundle.replace(
      '"content":"Refund 20 off my 100 order"',
      '"content":"Refund 90 off my 100 order"',
    );
    expect(tampered).not.toBe(bundle);
    const refused = cli(['import'], tampered);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('bundle refused: events[1] (version 2): version 2 does not verify');

    const imported = cli(['import', '--json'], bundle);
    expect(imported.stderr).toBe('');
    expect(imported.status).toBe(0);
    const manifest = JSON.parse(bundle.split('\n')[0]!) as { headHash: string };
    expect(JSON.parse(imported.stdout)).toMatchObject({
      tenantId: 'tenant-a',
      sessionId: 'golden-swarm',
      headHash: manifest.headHash,
      rehashed: false,
      checkpoints: { imported: 2, unverified: 0 },
    });

    const exported = cli(['export', 'golden-swarm', '--tenant', 'tenant-a']);
    expect(exported.status).toBe(0);
    expect(exported.stdout).toBe(bundle);

    const verified = cli(['verify', 'golden-swarm', '--tenant', 'tenant-a', '--json']);
    expect(verified.status).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ sessions: 1, failures: [], checkpoints: 'on' });
  });
});
