// The committed mutation results (mutation/<module>.incremental.json) without the machine they ran
// on: Stryker writes the absolute project root and absolute paths in some failure messages; the
// repository names no path outside itself, and the results must read the same in any checkout.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Rewrites `file` in place with every occurrence of `root` (an absolute path) made relative. */
export const makePortable = (file, root) => {
  if (!existsSync(file)) return false;
  const text = readFileSync(file, 'utf8');
  const escaped = JSON.stringify(root).slice(1, -1);
  const portable = text.split(`${escaped}/`).join('').split(escaped).join('.');
  if (portable !== text) writeFileSync(file, portable);
  return portable !== text;
};
