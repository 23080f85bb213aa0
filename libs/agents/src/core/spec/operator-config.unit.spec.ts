import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { caught } from '@agentledger/testing';
import { parseOperatorConfig } from './operator-config.ts';

const noFiles = (path: string): string => {
  throw new Error(`unexpected read of ${path}`);
};
const schema = z.object({
  PORT: z.coerce.number().int().positive(),
  /** A list in one variable: its issues carry the element's index in their path. */
  ROLES: z
    .string()
    .default('a')
    .transform((s) => s.split(','))
    .pipe(z.array(z.enum(['a', 'b']))),
});
const parse = (env: Readonly<Record<string, string | undefined>>) =>
  parseOperatorConfig(schema, env, noFiles, 'gateway configuration');
/** The message of the error `env` makes `parseOperatorConfig` throw. */
const problems = (env: Readonly<Record<string, string | undefined>>): string => {
  const error = caught(() => parse(env));
  expect(error).toBeInstanceOf(Error);
  return (error as Error).message;
};

describe('parseOperatorConfig', () => {
  it("returns the schema's output with the operator's endpoints and MCP servers", () => {
    const config = parse({
      PORT: '8080',
      OPENAI_BASE_URL: 'http://h/v1',
      AGENTLEDGER_MCP_SERVERS: '{"files": {"url": "http://mcp/files/"}}',
    });
    expect(config.PORT).toBe(8080);
    expect(config.ROLES).toStrictEqual(['a']);
    expect(Object.keys(config).sort()).toStrictEqual(['MCP_SERVERS', 'MODEL_ENDPOINTS', 'PORT', 'ROLES']);
    expect(config.MODEL_ENDPOINTS.get('default')?.baseUrl).toBe('http://h/v1');
    expect(config.MCP_SERVERS.get('files')?.transport).toStrictEqual({
      kind: 'http',
      url: 'http://mcp/files',
    });
  });

  it('names each bad variable of the schema, path and message', () => {
    expect(problems({ PORT: '-1' })).toBe(
      'Invalid gateway configuration:\n  PORT: Too small: expected number to be >0',
    );
    expect(problems({ PORT: '1', ROLES: 'a,c' })).toBe(
      'Invalid gateway configuration:\n  ROLES.1: Invalid option: expected one of "a"|"b"',
    );
  });

  it('throws for a bad model endpoint alone, or a bad MCP registry alone', () => {
    expect(problems({ PORT: '1', OPENAI_BASE_URL: 'nope' })).toBe(
      'Invalid gateway configuration:\n  OPENAI_BASE_URL: not a URL',
    );
    expect(problems({ PORT: '1', AGENTLEDGER_MCP_SERVERS: 'no-such-file' })).toBe(
      'Invalid gateway configuration:\n  AGENTLEDGER_MCP_SERVERS: cannot read the file it names',
    );
  });

  it('lists the problems of all three, one a line, in order', () => {
    expect(problems({ OPENAI_BASE_URL: 'nope', AGENTLEDGER_MCP_SERVERS: 'no-such-file' })).toBe(
      [
        'Invalid gateway configuration:',
        '  PORT: Invalid input: expected number, received NaN',
        '  OPENAI_BASE_URL: not a URL',
        '  AGENTLEDGER_MCP_SERVERS: cannot read the file it names',
      ].join('\n'),
    );
  });
});
