import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The repository is self-contained: no tracked file sends a reader to a DESIGN.md that is not in
// it, to an absolute path of some machine, or through a relative link to a file that is missing
// or outside the repository. docs/architecture.md is the contract document.
const root = resolve(new URL('../../', import.meta.url).pathname);
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((path) => path !== '' && existsSync(join(root, path)));
const textFiles = tracked.filter((path) =>
  /\.(ts|mts|mjs|js|json|md|sh|ya?ml|proto|xml|properties)$|^\.ci\//.test(path),
);
// This file's own examples of bad references are the only ones allowed.
const self = relative(root, new URL(import.meta.url).pathname);
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** Problems in one file's text: `path` is where it lives, relative to the repository root. */
export function outsideReferences(
  path: string,
  text: string,
  exists: (repoPath: string) => boolean,
): string[] {
  const problems: string[] = [];
  for (const match of text.matchAll(/[\w./-]*DESIGN\.md/g)) {
    const target = match[0];
    const candidates = [join(dirname(path), target), target].map((p) => relative('.', join('.', p)));
    if (!candidates.some(exists))
      problems.push(`${path}: refers to ${target}, which is not in the repository`);
  }
  for (const match of text.matchAll(/(?:^|[\s`'"(])((?:\/(?:work|home|Users|mnt)\/|file:\/\/)\S*)/g)) {
    problems.push(`${path}: refers to ${match[1]}, a path outside the repository`);
  }
  if (path.endsWith('.md')) {
    for (const match of text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
      const target = match[1] ?? '';
      if (/^[a-z]+:/.test(target)) continue;
      const inRepo = relative('.', join(dirname(path), target));
      if (inRepo.startsWith('..')) problems.push(`${path}: links to ${target}, outside the repository`);
      else if (!exists(inRepo)) problems.push(`${path}: links to ${target}, which does not exist`);
    }
  }
  return problems;
}

describe('references in tracked files', () => {
  const exists = (repoPath: string): boolean => existsSync(join(root, repoPath));

  it('name no DESIGN.md, machine path or link outside the repository', () => {
    expect(textFiles.length).toBeGreaterThan(100);
    expect(
      textFiles
        .filter((path) => path !== self)
        .flatMap((path) => outsideReferences(path, read(path), exists)),
    ).toEqual([]);
  });

  it('point to the contract document in the repository', () => {
    expect(textFiles).toContain(self);
    expect(exists('docs/architecture.md')).toBe(true);
    expect(read('README.md')).toContain('docs/architecture.md');
  });

  it.each([
    ['README.md', 'The contract is in `DESIGN.md` (kept elsewhere).', 'refers to DESIGN.md'],
    ['libs/x/src/a.ts', '// see ../../shared/DESIGN.md', 'refers to ../../shared/DESIGN.md'],
    ['docs/a.md', 'Read /work/shared/notes.md first.', 'refers to /work/shared/notes.md'],
    ['docs/a.md', 'See [the runbook](../../ops/runbook.md).', 'outside the repository'],
    ['docs/a.md', 'See [the API](missing.md#top).', 'links to missing.md, which does not exist'],
  ])('finds the reference in %s: %s', (path, text, problem) => {
    expect(outsideReferences(path, text, () => false).join('\n')).toContain(problem);
  });

  it('accepts links that resolve inside the repository and web links', () => {
    const text = 'See [api](api.md#curl), [readme](../README.md) and [zod](https://zod.dev).';
    expect(outsideReferences('docs/a.md', text, (p) => p === 'docs/api.md' || p === 'README.md')).toEqual([]);
  });
});
