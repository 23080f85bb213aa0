// `npm start`: builds what needs building (tsc -b is incremental) and runs the embedded product.
import { spawnSync } from 'node:child_process';

const run = (command, args) => {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

await import('./check-node.mjs');
console.log('[start] building (incremental)…');
run('tsc', ['-b', 'tsconfig.build.json']);
run('vite', ['build', '--config', 'apps/gateway/audit-ui/vite.config.ts']);
run(process.execPath, ['--enable-source-maps', 'apps/standalone/dist/main.js', ...process.argv.slice(2)]);
