import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** The repo's ESLint config, without type information (the probes are not files on disk). */
const eslint = new ESLint({
  cwd: root,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false, project: null } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', 'import-x/no-cycle': 'off' },
  },
});

const restricted = async (path: string, code: string): Promise<string[]> => {
  const [result] = await eslint.lintText(code, { filePath: `${root}${path}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
};

// The first case starts a type-aware ESLint (seconds on a busy machine): a test budget, not a timing check.
describe('the purity lint rule', { timeout: 60_000 }, () => {
  it.each([
    ["import { readFileSync } from 'node:fs';", 'the session core is pure: no I/O modules'],
    ["import { createHash } from 'node:crypto';", 'the session core is pure: no I/O modules'],
    ["import pg from 'pg';", 'the session core is pure: no I/O modules'],
    ["import { Kafka } from 'kafkajs';", 'the session core is pure: no I/O modules'],
    ["import { Injectable } from '@nestjs/common';", 'the session core is pure: no I/O modules'],
    ["import { x } from '@agentledger/events/postgres';", 'the session core is pure: no I/O modules'],
  ])('fires in core on %s', async (code, message) => {
    expect(
      await restricted('libs/agents/src/core/session/probe.ts', `${code}\nexport const y = 1;\n`),
    ).toEqual([expect.stringContaining(message)]);
  });

  it('lets adapters outside core use node built-ins but not Postgres, Kafka or Nest', async () => {
    expect(
      await restricted(
        'libs/agents/src/model/probe.ts',
        "import { createServer } from 'node:http';\nexport const y = createServer;\n",
      ),
    ).toEqual([]);
    expect(
      await restricted(
        'libs/agents/src/model/probe.ts',
        "import { drizzle } from 'drizzle-orm/pglite';\nexport const y = drizzle;\n",
      ),
    ).toEqual([expect.stringContaining('libs/agents sees only ports')]);
  });
});
