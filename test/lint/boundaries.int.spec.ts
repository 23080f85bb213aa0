import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The import boundaries of docs/architecture.md are ESLint rules; this proves they fire on the paths they guard.
const lint = async (filePath: string, code: string): Promise<string[]> => {
  const eslint = new ESLint({
    cwd: process.cwd(),
    ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
    overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
  });
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
};

describe('import boundaries', () => {
  it('keeps the session core free of node built-ins and infrastructure', async () => {
    expect(
      await lint(
        'libs/agents/src/core/probe.ts',
        "import { createHash } from 'node:crypto';\nexport const h = createHash;\n",
      ),
    ).toHaveLength(1);
    expect(
      await lint('libs/agents/src/core/probe.ts', "import pg from 'pg';\nexport const p = pg;\n"),
    ).toHaveLength(1);
  });

  it('keeps the agent library off Postgres, Kafka and Nest but lets adapters use node built-ins', async () => {
    expect(
      await lint('libs/agents/src/probe.ts', "import { Kafka } from 'kafkajs';\nexport const k = Kafka;\n"),
    ).toHaveLength(1);
    expect(
      await lint(
        'libs/agents/src/probe.ts',
        "import { Injectable } from '@nestjs/common';\nexport const i = Injectable;\n",
      ),
    ).toHaveLength(1);
    expect(
      await lint(
        'libs/agents/src/probe.ts',
        "import { createHash } from 'node:crypto';\nexport const h = createHash;\n",
      ),
    ).toEqual([]);
  });

  it('keeps the orchestrator runtime (`@agentledger/orchestrator/runtime`) free of Nest', async () => {
    expect(
      await lint(
        'apps/orchestrator/src/runtime/probe.ts',
        "import { Module } from '@nestjs/common';\nexport const m = Module;\n",
      ),
    ).toHaveLength(1);
    expect(
      await lint(
        'apps/orchestrator/src/runtime/probe.ts',
        "import { OrchestratorModule } from '../orchestrator.module.ts';\nexport const m = OrchestratorModule;\n",
      ),
    ).toHaveLength(1);
    expect(
      await lint(
        'apps/orchestrator/src/main-probe.ts',
        "import { Module } from '@nestjs/common';\nexport const m = Module;\n",
      ),
    ).toEqual([]);
  });

  it('keeps the client package free of dependencies but node:crypto', async () => {
    expect(
      await lint('libs/client/src/probe.ts', "import { z } from 'zod';\nexport const s = z;\n"),
    ).toHaveLength(1);
    expect(
      await lint('libs/client/src/probe.ts', "import x from '@agentledger/events';\nexport const y = x;\n"),
    ).toHaveLength(1);
    expect(
      await lint(
        'libs/client/src/probe.ts',
        "import { createHmac } from 'node:crypto';\nimport { operations } from './operations.ts';\nexport const h = [createHmac, operations];\n",
      ),
    ).toEqual([]);
  });

  it('keeps libraries off apps and the two apps off each other', async () => {
    expect(
      await lint('libs/events/src/probe.ts', "import x from '@agentledger/gateway';\nexport const y = x;\n"),
    ).toHaveLength(1);
    expect(
      await lint(
        'apps/gateway/src/probe.ts',
        "import x from '@agentledger/orchestrator';\nexport const y = x;\n",
      ),
    ).toHaveLength(1);
    expect(
      await lint(
        'apps/orchestrator/src/probe.ts',
        "import x from '@agentledger/gateway';\nexport const y = x;\n",
      ),
    ).toHaveLength(1);
  });

  it('reports an import cycle among our modules (import-x/no-cycle reads TypeScript modules)', async () => {
    const eslint = new ESLint({
      cwd: process.cwd(),
      ignore: false,
      ruleFilter: ({ ruleId }) => ruleId === 'import-x/no-cycle',
      overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
    });
    const results = await eslint.lintFiles([
      'test/lint/fixtures/cycle/first.ts',
      'test/lint/fixtures/cycle/second.ts',
    ]);
    expect(
      results.map((r) => [r.filePath.split('/').at(-1), r.messages.map((m) => `${m.ruleId}: ${m.message}`)]),
    ).toEqual([
      ['first.ts', ['import-x/no-cycle: Dependency cycle detected']],
      ['second.ts', ['import-x/no-cycle: Dependency cycle detected']],
    ]);
  });
});
