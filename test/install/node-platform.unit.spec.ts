import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodePackageFor } from '../../scripts/node-platform.mjs';
import { platforms } from './platforms.ts';

// Every developer platform gets Node 24 from npm: the per-platform packages are optional
// dependencies that npm installs by os/cpu, and the lockfile must keep all of them (a lockfile
// written on Linux that lost the macOS entries would make `npm ci` on a Mac install no Node).
const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const lock = JSON.parse(read('package-lock.json')) as Parameters<typeof nodePackageFor>[0];
const manifest = JSON.parse(read('package.json')) as Record<string, Record<string, string> | undefined>;

describe('the Node 24 package chosen for each platform', () => {
  const nvmrc = read('.nvmrc').trim();

  it.each(platforms)('$platform-$arch gets $name, a Node 24 that .nvmrc and engines accept', (target) => {
    const choice = nodePackageFor(lock, target);
    expect(choice).toMatchObject({ ok: true, name: target.name });
    const version = choice.ok ? choice.version : '';
    expect(version.split('.')[0]).toBe(nvmrc);
    expect(manifest['optionalDependencies']?.[target.name]).toBe(version);
  });

  it.each([
    { platform: 'win32', arch: 'x64' },
    { platform: 'linux', arch: 's390x' },
    { platform: 'freebsd', arch: 'x64' },
  ])('$platform-$arch gets none and a message naming the platform and the way out', (target) => {
    const choice = nodePackageFor(lock, target);
    expect(choice.ok).toBe(false);
    const message = choice.ok ? '' : choice.message;
    expect(message).toContain(`No Node.js 24 package for ${target.platform}-${target.arch}`);
    expect(message).toContain('darwin-arm64');
    expect(message).toMatch(/WSL.*\.nvmrc/);
  });

  it('keeps the Node packages optional only, so npm never refuses a platform', () => {
    for (const field of ['dependencies', 'devDependencies']) {
      expect(Object.keys(manifest[field] ?? {}).filter((name) => /^node(-bin)?-/.test(name))).toEqual([]);
    }
  });

  it('agrees with engines: one major, 24', () => {
    expect(nvmrc).toBe('24');
    expect(manifest['engines']?.['node']).toBe('>=24.0.0 <25');
  });
});
