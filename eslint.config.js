// @ts-check
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import vitest from '@vitest/eslint-plugin';

/** Postgres, Kafka and Nest code: what the pure agent core must never reach. */
const infrastructure = [
  'pg',
  'pg-*',
  'drizzle-orm',
  'drizzle-orm/*',
  '@electric-sql/*',
  'kafkajs',
  '@nestjs/*',
  'fastify',
  '@grpc/*',
];
const apps = [
  '@agentledger/gateway',
  '@agentledger/gateway/*',
  '@agentledger/orchestrator',
  '@agentledger/orchestrator/*',
  '@agentledger/standalone',
];

/**
 * Helpers that assert, so a test calling one asserts (patterns of `vitest/expect-expect`):
 * `eventually` (libs/testing) fails when its condition never holds; the decider's
 * `given(…).when(…).then/thenNothing/thenThrows` (libs/agents/src/testing/decider-spec.ts);
 * the shared contract suites declare their own tests full of `expect`; `endpointChangesReachTheCache`
 * (apps/gateway webhooks) is a contract check full of `expect` that a test calls.
 */
const assertionHelpers = [
  'expect',
  'expect.*',
  'assert',
  'assert.*',
  'eventually',
  'given.**.then',
  'given.**.thenNothing',
  'given.**.thenThrows',
  'eventStoreContract',
  'eventBusContract',
  'endpointChangesReachTheCache',
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.data/**',
      '.kafka/**',
      '.nx/**',
      '.stryker-tmp/**',
      'reports/**',
      'bench/results/**',
      'libs/proto/generated/**',
      // Specs that break the test rules on purpose; test/lint/test-rules.int.spec.ts lints them.
      'test/lint/fixtures/**',
    ],
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.recommended],
    plugins: { 'import-x': importX },
    settings: {
      // Without it the plugin reads only .js modules and no-cycle sees no TypeScript import.
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'],
      'import-x/resolver-next': [
        createNodeResolver({ conditionNames: ['@agentledger/source', 'import', 'node', 'default'] }),
      ],
    },
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Cycles among our own modules; dependencies are not walked (a bundled one overflowed the parser).
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'No TypeScript enum: use a union of string literals.' },
      ],
    },
  },
  {
    // Libraries never depend on applications.
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: apps, message: 'libs must not import apps' }] },
      ],
    },
  },
  {
    // The agent library sees only ports: no Postgres, Kafka or Nest code.
    files: ['libs/agents/src/**/*.ts'],
    ignores: ['libs/agents/src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...infrastructure, ...apps],
              message: 'libs/agents sees only ports, never infrastructure or apps',
            },
          ],
        },
      ],
    },
  },
  {
    // The decider, teams and termination are pure: not even node built-ins.
    files: ['libs/agents/src/core/**/*.ts'],
    ignores: ['libs/agents/src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                ...infrastructure,
                ...apps,
                '@agentledger/events/*',
                '!@agentledger/events/canonical',
                '!@agentledger/events/errors',
              ],
              message: 'the session core is pure: no I/O modules',
            },
          ],
        },
      ],
    },
  },
  {
    // The client package ships alone to business systems: global fetch and node:crypto, nothing
    // from the workspace or any other package.
    files: ['libs/client/src/**/*.ts'],
    ignores: ['libs/client/src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!node:crypto$|\\./)',
              message: '@agentledger/client has no dependency: global fetch and node:crypto only',
            },
          ],
        },
      ],
    },
  },
  {
    // The gateway and the orchestrator meet only through the log and the bus.
    files: ['apps/gateway/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@agentledger/orchestrator', '@agentledger/orchestrator/*'],
              message: 'gateway must not import orchestrator',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/orchestrator/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@agentledger/gateway', '@agentledger/gateway/*'],
              message: 'orchestrator must not import gateway',
            },
          ],
        },
      ],
    },
  },
  {
    // `@agentledger/orchestrator/runtime` composes without Nest (the embedded app, tests, benches).
    files: ['apps/orchestrator/src/runtime/**/*.ts', 'apps/orchestrator/src/flow/**/*.ts'],
    ignores: ['apps/orchestrator/src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', '**/*.module.ts', '**/main.ts'],
              message: 'the orchestrator runtime is a plain module: no Nest',
            },
            {
              group: ['@agentledger/gateway', '@agentledger/gateway/*'],
              message: 'orchestrator must not import gateway',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests that cannot fail are bugs: every test asserts, unconditionally, and none is skipped.
    files: ['**/*.spec.ts', '**/*.contract.ts'],
    plugins: { vitest },
    rules: {
      'vitest/expect-expect': ['error', { assertFunctionNames: assertionHelpers }],
      'vitest/no-conditional-tests': 'error',
      'vitest/no-conditional-expect': 'error',
      'vitest/no-disabled-tests': 'error',
      'vitest/no-focused-tests': 'error',
      'vitest/valid-expect': 'error',
      'vitest/no-identical-title': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
