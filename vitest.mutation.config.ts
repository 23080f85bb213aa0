import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// Mutation runs (npm run mutation, stryker.config.mjs): the unit tier only, no Postgres or Kafka.
// Everything else (conditions, excludes) is the main config's; Stryker sets workers and bail itself.
export default defineConfig({
  ...base,
  test: { ...base.test, projects: undefined, name: 'unit', include: ['**/*.unit.spec.ts'] },
});
