// Which npm package brings Node.js 24 to a platform. The per-platform packages are optional
// dependencies whose `os`/`cpu` fields let npm install only the one that fits; this applies the
// same rule to the lockfile, so a script can say what npm did (or why it could not) on any platform.
// Plain JS that parses on any Node, so it can explain the problem even on an old one.

const matches = (field, value) => {
  if (field === undefined) return true;
  const list = Array.isArray(field) ? field : [field];
  const allowed = list.filter((entry) => !entry.startsWith('!'));
  if (list.includes(`!${value}`)) return false;
  return allowed.length === 0 || allowed.includes(value);
};

/**
 * The Node.js package npm installs from `lock` (package-lock.json) for `platform`/`arch`
 * (`process.platform`/`process.arch` values), or an explanation naming the supported platforms.
 * @param {{ packages: Record<string, { optionalDependencies?: Record<string, string>, version?: string, os?: string | string[], cpu?: string | string[], bin?: Record<string, string> }> }} lock
 * @param {{ platform: string, arch: string }} target
 * @returns {{ ok: true, name: string, version: string } | { ok: false, message: string }}
 */
export function nodePackageFor(lock, { platform, arch }) {
  const root = lock.packages[''] ?? {};
  const candidates = Object.keys(root.optionalDependencies ?? {})
    .map((name) => ({ name, entry: lock.packages[`node_modules/${name}`] }))
    .filter(({ entry }) => entry?.bin?.node !== undefined);
  const fit = candidates.find(({ entry }) => matches(entry.os, platform) && matches(entry.cpu, arch));
  if (fit) return { ok: true, name: fit.name, version: fit.entry.version };
  const supported = candidates.map(
    ({ entry }) => `${[entry.os].flat().join('|')}-${[entry.cpu].flat().join('|')}`,
  );
  return {
    ok: false,
    message:
      `No Node.js 24 package for ${platform}-${arch} (packages exist for ${supported.join(', ')}; ` +
      'on Windows use WSL). Install Node.js 24 yourself (the version is in .nvmrc) and run again: ' +
      'a machine Node.js 24 is used when npm brings none.',
  };
}
