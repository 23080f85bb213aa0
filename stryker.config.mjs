// @ts-check
// Mutation testing (StrykerJS) of the core, one module at a time: `npm run mutation -- <module…>`
// (scripts/mutation.mjs) sets AGENTLEDGER_MUTATION_MODULE and this file picks the files to mutate,
// the report paths and the incremental file for that module. See docs/mutation.md.

const specs = ['!**/*.spec.ts', '!**/testing/**', '!**/__golden__/**'];

/**
 * Modules, smallest first: name → files to mutate (globs, relative to the repository root) and the
 * folder whose unit specs run against them (`vitest --dir`: the specs that test the module, so the
 * initial test run, which runs every one of them, stays short).
 */
export const modules = {
  events: {
    specs: 'libs/events/src',
    mutate: [
      'libs/events/src/prepare.ts',
      'libs/events/src/hash.ts',
      'libs/events/src/canonical/**/*.ts',
      'libs/events/src/upcasting.ts',
      'libs/events/src/relay/position-gaps.ts',
    ],
  },
  termination: { specs: 'libs/agents/src/core/team', mutate: ['libs/agents/src/core/team/**/*.ts'] },
  decider: { specs: 'libs/agents/src/core/session', mutate: ['libs/agents/src/core/session/**/*.ts'] },
  'agents-core': {
    specs: 'libs/agents/src/core',
    mutate: [
      'libs/agents/src/core/**/*.ts',
      '!libs/agents/src/core/team/**',
      '!libs/agents/src/core/session/**',
    ],
  },
  relay: { specs: 'libs/events/src/relay', mutate: ['libs/events/src/relay/outbox-relay.ts'] },
  // The session engine: load → decide → append, the step, the cache and the conflict policy. The
  // use cases around it are thin callers of the engine; the SQL and memory adapters have contract
  // suites on real databases (not unit specs), so mutating them here would measure nothing.
  sessions: { specs: 'libs/sessions/src', mutate: ['libs/sessions/src/engine/**/*.ts'] },
};

/**
 * A module's incremental results, kept in git (unlike the reports): each machine's run resumes from
 * what earlier runs measured, and reruns only the mutants whose code or covering specs changed.
 */
export const incrementalFileOf = (/** @type {string} */ name) => `mutation/${name}.incremental.json`;

const name = process.env.AGENTLEDGER_MUTATION_MODULE ?? 'events';
const module = /** @type {Record<string, { specs: string; mutate: string[] }>} */ (modules)[name];
if (!module) {
  throw new Error(
    `AGENTLEDGER_MUTATION_MODULE=${name} is not a module; choose one of ${Object.keys(modules).join(', ')}`,
  );
}
const only = process.env.AGENTLEDGER_MUTATION_FILES;
const reportDir = `reports/mutation/${name}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', dir: module.specs, related: true },
  // The initial run of every spec is slow on a loaded machine (the default is 5 minutes).
  dryRunTimeoutMinutes: 30,
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  mutate: only ? only.split(',') : [...module.mutate, ...specs],
  // Two cores shared with other work: at most two test runners.
  concurrency: 2,
  timeoutMS: 10_000,
  incremental: true,
  incrementalFile: incrementalFileOf(name),
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
    'mutation',
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
