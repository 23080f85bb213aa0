import { describe, expect, it } from 'vitest';
import { caught } from '@agentledger/testing';
import {
  InvalidMcpServers,
  mcpServerByCommand,
  mcpServerByUrl,
  normalizeMcpUrl,
  parseMcpServers,
  readMcpServers,
} from './mcp-servers.ts';

const noFiles = (path: string): string => {
  throw new Error(`unexpected read of ${path}`);
};
const parse = (raw: unknown) => parseMcpServers({ AGENTLEDGER_MCP_SERVERS: JSON.stringify(raw) }, noFiles);
/** The message of the `InvalidMcpServers` that `raw` as AGENTLEDGER_MCP_SERVERS throws. */
const problem = (raw: unknown): string => {
  const error = caught(() => parse(raw));
  expect(error).toBeInstanceOf(InvalidMcpServers);
  return (error as Error).message;
};

describe('parseMcpServers, the edges', () => {
  it('no servers when the variable is absent or blank', () => {
    expect(parseMcpServers({}, noFiles).size).toBe(0);
    expect(parseMcpServers({ AGENTLEDGER_MCP_SERVERS: ' \n ' }, noFiles).size).toBe(0);
  });

  it('a stdio server with only a command has no args, cwd, env or time limit', () => {
    expect(parse({ s: { command: 'node' } }).get('s')).toStrictEqual({
      name: 's',
      transport: { kind: 'stdio', command: 'node', args: [] },
    });
  });

  it('a stdio server keeps its cwd, env secrets (prefix only when given) and time limit', () => {
    const server = parse({
      s: {
        command: 'node',
        args: ['a', 'b'],
        cwd: '/srv',
        env: { TOKEN: { env: 'DESK_TOKEN' }, KEY: { file: '/run/k', prefix: 'k=' } },
        timeoutMs: 600_000,
      },
    }).get('s');
    expect(server).toStrictEqual({
      name: 's',
      transport: {
        kind: 'stdio',
        command: 'node',
        args: ['a', 'b'],
        cwd: '/srv',
        env: {
          TOKEN: { source: { kind: 'env', name: 'DESK_TOKEN' } },
          KEY: { source: { kind: 'file', path: '/run/k' }, prefix: 'k=' },
        },
      },
      timeoutMs: 600_000,
    });
  });

  it('an HTTP server with only a URL has no headers or time limit, its URL without trailing slashes', () => {
    expect(parse({ h: { url: 'https://mcp.example/v1//' } }).get('h')).toStrictEqual({
      name: 'h',
      transport: { kind: 'http', url: 'https://mcp.example/v1' },
    });
    expect(parse({ h: { url: 'http://mcp.example', timeoutMs: 1 } }).get('h')?.timeoutMs).toBe(1);
  });

  it('server names: letters, digits, . _ - after a letter or digit, at most 64', () => {
    const url = { url: 'http://h' };
    expect([...parse({ 'my_se-rver.1': url, ['a'.repeat(64)]: url }).keys()]).toEqual([
      'my_se-rver.1',
      'a'.repeat(64),
    ]);
    for (const name of ['-x', '.x', 'x!', 'a b', 'a'.repeat(65), ''])
      expect(problem({ [name]: url })).toBe(`AGENTLEDGER_MCP_SERVERS.${name}: Invalid key in record`);
  });

  it('env names and header names', () => {
    expect(parse({ s: { command: 'c', env: { _A_1: { env: 'B_2' } } } }).has('s')).toBe(true);
    for (const name of ['1A', 'A-B', 'A B', ''])
      expect(problem({ s: { command: 'c', env: { [name]: { env: 'X' } } } })).toContain(
        'AGENTLEDGER_MCP_SERVERS.s',
      );
    expect(problem({ s: { command: 'c', env: { X: { env: '1A' } } } })).toContain(
      'AGENTLEDGER_MCP_SERVERS.s',
    );
    const header = "Aa0!#$%&'*+.^_`|~-";
    expect(
      Object.keys(parse({ h: { url: 'http://h', headers: { [header]: { env: 'T' } } } }).get('h')!.transport),
    ).toContain('headers');
    for (const name of ['a b', 'a:b', 'a(b', '', 'é'])
      expect(problem({ h: { url: 'http://h', headers: { [name]: { env: 'T' } } } })).toContain(
        'AGENTLEDGER_MCP_SERVERS.h',
      );
  });

  it('a secret from a variable that is no variable name: the refusal says so, at the secret', () => {
    expect(problem({ s: { command: 'c', env: { X: { env: '1A' } } } })).toBe(
      'AGENTLEDGER_MCP_SERVERS.s.env.X.env: an environment variable name',
    );
    expect(problem({ h: { url: 'http://h', headers: { Authorization: { env: 'A-B' } } } })).toBe(
      'AGENTLEDGER_MCP_SERVERS.h.headers.Authorization.env: an environment variable name',
    );
  });

  it('refuses other URL schemes, empty commands, cwd and secret files, and bad time limits', () => {
    for (const url of ['ftp://h', 'xhttp://h', 'httpx://h'])
      expect(problem({ h: { url } })).toContain('AGENTLEDGER_MCP_SERVERS.h');
    expect(problem({ s: { command: '' } })).toContain('AGENTLEDGER_MCP_SERVERS.s');
    expect(problem({ s: { command: 'c', cwd: '' } })).toContain('AGENTLEDGER_MCP_SERVERS.s');
    expect(problem({ s: { command: 'c', env: { A: { file: '' } } } })).toContain('AGENTLEDGER_MCP_SERVERS.s');
    for (const timeoutMs of [0, 1.5, 600_001])
      expect(problem({ h: { url: 'http://h', timeoutMs } })).toContain('AGENTLEDGER_MCP_SERVERS.h');
  });

  it('lists every problem, and says what the error is', () => {
    const error = caught(() => parse({ a: { command: '' }, b: {} }));
    expect(error).toMatchObject({ code: 'invalid_mcp_servers', retryable: false });
    expect((error as Error).message.split('; ')).toEqual([
      expect.stringMatching(/^AGENTLEDGER_MCP_SERVERS\.a\.command: /),
      expect.stringMatching(/^AGENTLEDGER_MCP_SERVERS\.b: /),
    ]);
  });
});

describe('readMcpServers', () => {
  it('returns the servers, or the problem instead of throwing it', () => {
    const read = readMcpServers({ AGENTLEDGER_MCP_SERVERS: '{"h": {"url": "http://h"}}' }, noFiles);
    expect('servers' in read && [...read.servers.keys()]).toEqual(['h']);
    expect(readMcpServers({ AGENTLEDGER_MCP_SERVERS: '{oops' }, noFiles)).toStrictEqual({
      problem: 'AGENTLEDGER_MCP_SERVERS: not valid JSON (a JSON object or a file path)',
    });
  });

  it('lets any other error through', () => {
    const env = {
      get AGENTLEDGER_MCP_SERVERS(): string {
        throw new TypeError('boom');
      },
    };
    expect(() => readMcpServers(env, noFiles)).toThrow(TypeError);
  });
});

describe('finding a registered server', () => {
  const servers = parse({
    web: { url: 'http://h/mcp/' },
    desk: { command: 'node', args: ['desk.ts', '--ro'] },
    bare: { command: 'desk' },
  });

  it('by URL, with or without a trailing slash; a stdio server has none', () => {
    expect(normalizeMcpUrl('http://h/mcp//')).toBe('http://h/mcp');
    expect(normalizeMcpUrl('http://h/mcp')).toBe('http://h/mcp');
    expect(mcpServerByUrl(servers, 'http://h/mcp')?.name).toBe('web');
    expect(mcpServerByUrl(servers, 'http://h/mcp/')?.name).toBe('web');
    expect(mcpServerByUrl(servers, 'http://h/other')).toBeUndefined();
    expect(mcpServerByUrl(servers, 'node')).toBeUndefined();
  });

  it('by command and the very same args', () => {
    expect(mcpServerByCommand(servers, 'node', ['desk.ts', '--ro'])?.name).toBe('desk');
    expect(mcpServerByCommand(servers, 'desk', [])?.name).toBe('bare');
    expect(mcpServerByCommand(servers, 'node', ['desk.ts'])).toBeUndefined();
    expect(mcpServerByCommand(servers, 'node', ['desk.ts', '--rw'])).toBeUndefined();
    expect(mcpServerByCommand(servers, 'node', ['desk.ts', '--ro', '-x'])).toBeUndefined();
    expect(mcpServerByCommand(servers, 'deno', ['desk.ts', '--ro'])).toBeUndefined();
    expect(mcpServerByCommand(servers, 'http://h/mcp', [])).toBeUndefined();
  });
});
