import { describe, expect, it } from 'vitest';
import { parseMcpServers } from './mcp-servers.ts';
import { McpToolsRefused, resolveMcpTools, type McpToolInfo } from './resolve-mcp-tools.ts';
import { teamSpecSchema } from './team-spec.ts';

const servers = parseMcpServers(
  {
    AGENTLEDGER_MCP_SERVERS: JSON.stringify({
      desk: { command: 'node', args: ['desk.ts'], env: { DESK_TOKEN: { file: '/run/secrets/desk' } } },
      rates: {
        url: 'http://127.0.0.1:7777/mcp/',
        headers: { Authorization: { env: 'RATES_TOKEN', prefix: 'Bearer ' } },
      },
    }),
  },
  () => '',
);

describe('AGENTLEDGER_MCP_SERVERS', () => {
  it('parses stdio and Streamable HTTP servers with secrets named by env var or file', () => {
    expect(servers.get('desk')).toEqual({
      name: 'desk',
      transport: {
        kind: 'stdio',
        command: 'node',
        args: ['desk.ts'],
        env: { DESK_TOKEN: { source: { kind: 'file', path: '/run/secrets/desk' } } },
      },
    });
    expect(servers.get('rates')?.transport).toEqual({
      kind: 'http',
      url: 'http://127.0.0.1:7777/mcp',
      headers: { Authorization: { source: { kind: 'env', name: 'RATES_TOKEN' }, prefix: 'Bearer ' } },
    });
  });

  it('reads a file path, and refuses literal secrets and bad entries naming the key', () => {
    const fromFile = parseMcpServers({ AGENTLEDGER_MCP_SERVERS: '/etc/mcp.json' }, (path) =>
      path === '/etc/mcp.json' ? '{"x": {"url": "https://mcp.example/"}}' : '',
    );
    expect(fromFile.get('x')?.transport).toEqual({ kind: 'http', url: 'https://mcp.example' });
    const literal = JSON.stringify({
      x: { url: 'https://mcp.example', headers: { Authorization: 'Bearer s3cret' } },
    });
    expect(() => parseMcpServers({ AGENTLEDGER_MCP_SERVERS: literal }, () => '')).toThrow(
      /AGENTLEDGER_MCP_SERVERS\.x/,
    );
    expect(() => parseMcpServers({ AGENTLEDGER_MCP_SERVERS: literal }, () => '')).not.toThrow(/s3cret/);
    expect(() => parseMcpServers({ AGENTLEDGER_MCP_SERVERS: '{"x": {}}' }, () => '')).toThrow(
      /AGENTLEDGER_MCP_SERVERS/,
    );
  });
});

describe('resolveMcpTools', () => {
  const listed: Record<string, McpToolInfo[]> = {
    desk: [
      {
        name: 'lookup_order',
        description: 'Finds an order',
        inputSchema: { type: 'object' },
        idempotent: true,
      },
      { name: 'note', description: 'Adds a note', inputSchema: { type: 'object' }, idempotent: false },
    ],
    rates: [{ name: 'convert', description: 'Converts', inputSchema: { type: 'object' }, idempotent: true }],
  };
  let calls: string[] = [];
  const list = (server: string) => {
    calls.push(server);
    return Promise.resolve(listed[server] ?? []);
  };
  const spec = (mcp: unknown[], extra: Record<string, unknown> = {}) =>
    teamSpecSchema.parse({
      specVersion: 1,
      name: 't',
      type: 'single',
      agents: [{ name: 'a', tools: ['calculator'], mcp, ...extra }],
    });
  const refused = async (input: ReturnType<typeof spec>) => {
    const error = await resolveMcpTools(input, servers, list).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpToolsRefused);
    return (error as McpToolsRefused).issues;
  };

  it('pins the listed tools (all, or the subset named, by server name or registered URL) into the spec', async () => {
    calls = [];
    const resolved = await resolveMcpTools(
      spec([{ server: 'desk', tools: ['lookup_order'] }, { url: 'http://127.0.0.1:7777/mcp' }]),
      servers,
      list,
    );
    expect(resolved.agents[0]).toMatchObject({
      mcp: [{ server: 'desk', tools: ['lookup_order'] }, { server: 'rates' }],
      mcpTools: [
        { server: 'desk', name: 'lookup_order', idempotent: true },
        { server: 'rates', name: 'convert', idempotent: true },
      ],
    });
    expect(calls).toEqual(['desk', 'rates']);
  });

  it('replaces tenant-written mcpTools, even without any MCP server named', async () => {
    const forged = { server: 'desk', name: 'note', description: '', inputSchema: {}, idempotent: true };
    const resolved = await resolveMcpTools(spec([], { mcpTools: [forged] }), servers, list);
    expect(resolved.agents[0]).not.toHaveProperty('mcpTools');
    const again = await resolveMcpTools(spec([{ server: 'desk' }], { mcpTools: [forged] }), servers, list);
    expect(again.agents[0]).toMatchObject({
      mcpTools: [{ name: 'lookup_order' }, { name: 'note', idempotent: false }],
    });
  });

  it('refuses (422) a command, args, env, headers, an unknown server, URL or tool, naming each field', async () => {
    expect(
      await refused(
        spec([
          { server: 'desk', command: 'sh', args: ['-c', 'curl evil'] },
          { url: 'http://evil.example/mcp', headers: { Authorization: 'x' } },
          { server: 'nope' },
          { server: 'rates', tools: ['convert', 'transfer'] },
          {},
        ]),
      ),
    ).toEqual([
      { path: 'agents.0.mcp.0.command', message: expect.any(String) },
      { path: 'agents.0.mcp.0.args', message: expect.any(String) },
      { path: 'agents.0.mcp.1.headers', message: expect.any(String) },
      { path: 'agents.0.mcp.1.url', message: expect.any(String) },
      { path: 'agents.0.mcp.2.server', message: 'not a registered MCP server' },
      { path: 'agents.0.mcp.3.tools.1', message: 'not a tool of MCP server "rates"' },
      { path: 'agents.0.mcp.4.server', message: 'name a registered MCP server' },
    ]);
  });

  it('refuses a tool name the agent already uses, and a server that cannot be listed', async () => {
    const clash: Record<string, McpToolInfo[]> = { rates: [{ ...listed['rates']![0]!, name: 'calculator' }] };
    const clashing = await resolveMcpTools(spec([{ server: 'rates' }]), servers, (s) =>
      Promise.resolve(clash[s] ?? []),
    ).catch((e: unknown) => e);
    expect((clashing as McpToolsRefused).issues).toEqual([
      { path: 'agents.0.mcp.0.tools', message: 'tool name "calculator" is already used by this agent' },
    ]);
    const down = await resolveMcpTools(spec([{ server: 'desk' }]), servers, () =>
      Promise.reject(new Error('ECONNREFUSED')),
    ).catch((e: unknown) => e);
    expect((down as McpToolsRefused).issues).toEqual([
      { path: 'agents.0.mcp.0.server', message: 'could not list the tools of MCP server "desk"' },
    ]);
  });
});
