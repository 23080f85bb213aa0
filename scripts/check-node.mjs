// Fails loudly when a script runs on a Node.js other than the project's (Node 24 from node_modules/.bin).
// Plain JS that parses on any Node, so it can report the problem even on an old one.
const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  console.error(
    `AgentLedger needs Node.js 24, but this is ${process.version} (${process.execPath}).\n` +
      "Run it through npm (npm start, npm test, npm run …), which puts the project's Node 24 from\n" +
      'node_modules/.bin first on PATH, or: export PATH="$PWD/node_modules/.bin:$PATH".',
  );
  process.exit(1);
}
