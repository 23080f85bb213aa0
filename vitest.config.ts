import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources, so tests never need a build first.
const conditions = ['@agentledger/source', ...defaultServerConditions];
const services = './libs/testing/src/global-setup.ts';

export default defineConfig({
  ssr: { resolve: { conditions, externalConditions: ['@agentledger/source'] } },
  test: {
    // Two test files at a time (the machine has 2 cores), which also bounds the Postgres
    // connections the int and e2e tiers open at once (the server allows 100).
    maxWorkers: 2,
    // `.js` under dist/ are build output; specs live beside their sources.
    exclude: ['**/node_modules/**', '**/dist/**', '.data/**', '.kafka/**', '.stryker-tmp/**'],
    projects: [
      // Unit files share their worker's modules (no fresh module graph a file): the code keeps no
      // module-level mutable state and no spec mocks modules or globals, and importing the graph
      // again for each file was 40 % of the unit tier's time (140 s -> 50 s on two cores). The int
      // and e2e tiers keep isolation: they time real services, and warm modules change that timing.
      { extends: true, test: { name: 'unit', include: ['**/*.unit.spec.ts'], isolate: false } },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['**/*.int.spec.ts'],
          globalSetup: [services],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['**/*.e2e.spec.ts'],
          globalSetup: [services],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The gateway's e2e suites again, on the distributed gateway's Postgres adapters.
        extends: true,
        test: {
          name: 'e2e-postgres',
          include: ['apps/gateway/src/**/*.e2e.spec.ts'],
          globalSetup: [services],
          provide: { gatewayAdapters: 'postgres' },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
