// Fails loudly when a script runs on a Node.js other than 24, saying where Node 24 comes from on
// this platform. Plain JS that parses on any Node, so it can report the problem even on an old one.
import { existsSync, readFileSync } from 'node:fs';
import { nodePackageFor } from './node-platform.mjs';

const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  const root = new URL('..', import.meta.url);
  const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8'));
  const choice = nodePackageFor(lock, process);
  const installed = existsSync(new URL('node_modules/.bin/node', root));
  const remedy = !choice.ok
    ? choice.message
    : installed
      ? "Run it through npm (npm start, npm test, npm run …), which puts the project's Node 24 from\n" +
        'node_modules/.bin first on PATH, or: export PATH="$PWD/node_modules/.bin:$PATH".'
      : `npm ci installs ${choice.name}@${choice.version} for ${process.platform}-${process.arch} into ` +
        'node_modules/.bin: run npm ci (or npm start / npm test, which run it when needed).';
  console.error(
    `AgentLedger needs Node.js 24, but this is ${process.version} (${process.execPath}).\n${remedy}`,
  );
  process.exit(1);
}
