import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { nodePackageFor } from '../../scripts/node-platform.mjs';
import { platforms } from './platforms.ts';

// What npm itself does with our lockfile on each platform (`npm ci --dry-run --os --cpu`): the
// install that a developer on that machine gets, simulated here without touching node_modules.
const root = new URL('../../', import.meta.url).pathname;
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Parameters<
  typeof nodePackageFor
>[0];

/** A directory with the root and workspace manifests and the lockfile: all `npm ci` reads. */
function manifestsOnly(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentledger-npm-'));
  const workspaces = Object.keys(lock.packages).filter((path) => !path.includes('node_modules'));
  for (const path of workspaces) {
    cpSync(join(root, path, 'package.json'), join(dir, path, 'package.json'));
  }
  cpSync(join(root, 'package-lock.json'), join(dir, 'package-lock.json'));
  return dir;
}

async function nodePackagesNpmAdds(dir: string, os: string, cpu: string): Promise<string[]> {
  const args = [
    'ci',
    '--dry-run',
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    `--os=${os}`,
    `--cpu=${cpu}`,
  ];
  const { stdout } = await promisify(execFile)('npm', args, { cwd: dir, maxBuffer: 64 << 20 });
  return [...stdout.matchAll(/^add (node(?:-bin)?-[a-z0-9]+-[a-z0-9]+) (\S+)$/gm)].map(
    (m) => `${m[1]}@${m[2]}`,
  );
}

describe('npm ci on each platform', () => {
  const dir = manifestsOnly();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(platforms)('installs $name on $platform-$arch', async ({ platform, arch, name }) => {
    const choice = nodePackageFor(lock, { platform, arch });
    expect(choice.ok && choice.name).toBe(name);
    expect(await nodePackagesNpmAdds(dir, platform, arch)).toEqual([
      `${name}@${choice.ok ? choice.version : ''}`,
    ]);
  });

  it('installs no Node on win32-x64 (WSL is the way there), and fails nothing', async () => {
    expect(await nodePackagesNpmAdds(dir, 'win32', 'x64')).toEqual([]);
  });
});
