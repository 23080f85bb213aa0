// @ts-check
// Mutation testing (StrykerJS) of the core, one module at a time: `npm run mutation -- <module…>`
// (scripts/mutation.mjs) sets AGENTLEDGER_MUTATION_MODULE and this file picks the files to mutate,
// the report paths and the incremental file for that module. See docs/mutation.md.

const specs = ['!**/*.spec.ts', '!**/testing/**', '!**/__golden__/**'];

/** Modules, smallest first: name → files to mutate (globs, relative to the repository root). */
export const modules = {
  events: [
    'libs/events/src/prepare.ts',
    'libs/events/src/hash.ts',
    'libs/events/src/canonical/**/*.ts',
    'libs/events/src/upcasting.ts',
    'libs/events/src/relay/position-gaps.ts',
  ],
  termination: ['libs/agents/src/core/team/**/*.ts'],
  decider: ['libs/agents/src/core/session/**/*.ts'],
  'agents-core': [
    'libs/agents/src/core/**/*.ts',
    '!libs/agents/src/core/team/**',
    '!libs/agents/src/core/session/**',
  ],
  relay: ['libs/events/src/relay/outbox-relay.ts'],
  sessions: ['libs/sessions/src/**/*.ts', '!libs/sessions/src/sql/**', '!libs/sessions/src/memory/**'],
};

const name = process.env.AGENTLEDGER_MUTATION_MODULE ?? 'events';
const files = /** @type {Record<string, string[]>} */ (modules)[name];
if (!files) {
  throw new Error(
    `AGENTLEDGER_MUTATION_MODULE=${name} is not a module; choose one of ${Object.keys(modules).join(', ')}`,
  );
}
const only = process.env.AGENTLEDGER_MUTATION_FILES;
// The unit specs of the module's own package (`vitest --dir`): they are the ones that test it, and
// the dry run (every spec, once, to map tests to mutants) stays short.
const dir = /^(libs|apps)\/[^/]+/.exec(files[0] ?? '')?.[0];
const reportDir = `reports/mutation/${name}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', dir, related: true },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  mutate: only ? only.split(',') : [...files, ...specs],
  // Two cores shared with other work: at most two test runners.
  concurrency: 2,
  timeoutMS: 10_000,
  incremental: true,
  incrementalFile: `${reportDir}/stryker-incremental.json`,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: `${reportDir}/index.html` },
  jsonReporter: { fileName: `${reportDir}/mutation.json` },
  thresholds: {
    high: 90,
    low:
      name.startsWith('agents') || name === 'termination' || name === 'decider' || name === 'sessions'
        ? 85
        : 75,
    break: null,
  },
  tempDirName: `.stryker-tmp/${name}`,
  ignorePatterns: [
    '.stryker-tmp',
    'dist',
    '.data',
    '.kafka',
    '.nx',
    'reports',
    'coverage',
    'bench/results',
    'apps/gateway/audit-ui/dist',
  ],
  cleanTempDir: true,
};
