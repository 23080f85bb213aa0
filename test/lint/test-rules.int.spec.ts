import { readFile } from 'node:fs/promises';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The rules against tests that cannot fail (eslint.config.js) fire on every spec file, and the
// helpers that assert count as assertions.
const lint = async (filePath: string, code: string): Promise<string[]> => {
  const eslint = new ESLint({
    cwd: process.cwd(),
    ruleFilter: ({ ruleId }) => ruleId.startsWith('vitest/'),
    overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
  });
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.line} ${m.ruleId ?? m.message}`);
};

const fixture = (name: string): Promise<string> =>
  readFile(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

describe('test lint rules', () => {
  it('flags a test without an assertion, conditional, skipped, focused or duplicate tests', async () => {
    const code = await fixture('vacuous.spec.ts');
    for (const path of ['libs/events/src/probe.unit.spec.ts', 'apps/gateway/src/probe.e2e.spec.ts']) {
      expect(await lint(path, code)).toEqual([
        '8 vitest/expect-expect',
        '13 vitest/no-conditional-expect',
        '16 vitest/no-identical-title',
        '17 vitest/valid-expect',
        '20 vitest/no-disabled-tests',
        '24 vitest/no-focused-tests',
        '31 vitest/no-conditional-tests',
      ]);
    }
  });

  it('counts eventually, the decider harness and the contract suites as assertions', async () => {
    const code = [
      "import { describe, it } from 'vitest';",
      "import { eventually } from '@agentledger/testing';",
      "import { given, meta } from '../../testing/decider-spec.ts';",
      "describe('helpers', () => {",
      "  it('waits', () => eventually('one', () => 1));",
      "  it('decides', () => given().when({ type: 'CancelTurn', data: {}, metadata: meta() }).thenNothing());",
      "  it('throws', () => given().when({ type: 'CancelTurn', data: {}, metadata: meta() }).thenThrows('x'));",
      "  it('then', () => given().when({ type: 'CancelTurn', data: {}, metadata: meta() }).then([]));",
      '});',
    ].join('\n');
    expect(await lint('libs/agents/src/core/session/probe.unit.spec.ts', code)).toEqual([]);
    expect(
      await lint(
        'libs/agents/src/core/session/probe.unit.spec.ts',
        code.replace("eventually('one', () => 1)", "Promise.resolve('one')"),
      ),
    ).toEqual(['5 vitest/expect-expect']);
  });
});
