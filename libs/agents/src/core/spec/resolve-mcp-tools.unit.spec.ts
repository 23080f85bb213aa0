import { describe, expect, it } from 'vitest';
import { parseMcpServers } from './mcp-servers.ts';
import { McpToolsRefused, resolveMcpTools, type McpToolInfo } from './resolve-mcp-tools.ts';
import { teamSpecSchema } from './team-spec.ts';

const servers = parseMcpServers(
  {
    AGENTLEDGER_MCP_SERVERS: JSON.stringify({
      desk: { command: 'node', args: ['desk.ts'] },
      rates: { url: 'http://rates/mcp' },
      fx: { url: 'http://fx/mcp' },
    }),
  },
  () => '',
);
const tool = (name: string): McpToolInfo => ({
  name,
  description: `does ${name}`,
  inputSchema: { type: 'object' },
  idempotent: false,
});
const listed: Record<string, McpToolInfo[]> = {
  desk: [tool('lookup'), tool('note')],
  rates: [tool('convert')],
  fx: [tool('convert'), tool('quote')],
};

/** A lister that records which servers it was asked for. */
const recording = () => {
  const calls: string[] = [];
  const list = (server: string) => {
    calls.push(server);
    return Promise.resolve(listed[server] ?? []);
  };
  return { calls, list };
};
const team = (agents: unknown[]) =>
  teamSpecSchema.parse({ specVersion: 1, name: 't', type: 'round_robin', agents });
const issuesOf = async (promise: Promise<unknown>): Promise<McpToolsRefused['issues']> => {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(McpToolsRefused);
  return (error as McpToolsRefused).issues;
};

describe('resolveMcpTools, the edges', () => {
  it('leaves an agent without `mcp` without MCP fields, dropping a tenant-written mcpTools', async () => {
    const { calls, list } = recording();
    const forged = { server: 'desk', name: 'x', description: '', inputSchema: {}, idempotent: true };
    const resolved = await resolveMcpTools(
      team([
        { name: 'a', mcpTools: [forged] },
        { kind: 'user_proxy', name: 'u' },
      ]),
      servers,
      list,
    );
    expect(Object.keys(resolved.agents[0]!)).not.toContain('mcp');
    expect(Object.keys(resolved.agents[0]!)).not.toContain('mcpTools');
    expect(resolved.agents[1]).toStrictEqual({ kind: 'user_proxy', name: 'u', description: 'A human user' });
    expect(calls).toEqual([]);
  });

  it('stores each toolset by server name, its tool subset only when one was named', async () => {
    const resolved = await resolveMcpTools(
      team([
        {
          name: 'a',
          mcp: [
            { url: 'http://rates/mcp/', server: 'rates' },
            { server: 'desk', tools: ['note'] },
          ],
        },
      ]),
      servers,
      recording().list,
    );
    const agent = resolved.agents[0]!;
    expect(agent.kind === 'assistant' && agent.mcp).toStrictEqual([
      { server: 'rates' },
      { server: 'desk', tools: ['note'] },
    ]);
    expect(agent.kind === 'assistant' && agent.mcpTools).toStrictEqual([
      { server: 'rates', ...tool('convert') },
      { server: 'desk', ...tool('note') },
    ]);
  });

  it('refuses env like the other operator fields, with the reason', async () => {
    expect(
      await issuesOf(
        resolveMcpTools(team([{ name: 'a', mcp: [{ server: 'desk', env: {} }] }]), servers, recording().list),
      ),
    ).toStrictEqual([
      {
        path: 'agents.0.mcp.0.env',
        message: 'MCP servers are operator configuration: name a registered server',
      },
    ]);
  });

  it('refuses a URL of another server than the one named, and lists neither', async () => {
    const { calls, list } = recording();
    expect(
      await issuesOf(
        resolveMcpTools(
          team([{ name: 'a', mcp: [{ url: 'http://rates/mcp', server: 'desk' }] }]),
          servers,
          list,
        ),
      ),
    ).toStrictEqual([
      {
        path: 'agents.0.mcp.0.url',
        message: 'not the URL of a registered MCP server; name one with "server"',
      },
    ]);
    expect(calls).toEqual([]);
  });

  it('lists no server it refuses', async () => {
    const { calls, list } = recording();
    await issuesOf(resolveMcpTools(team([{ name: 'a', mcp: [{ server: 'nope' }, {}] }]), servers, list));
    expect(calls).toEqual([]);
  });

  it('refuses a tool whose name a handoff or an earlier toolset of the agent already uses', async () => {
    const issues = await issuesOf(
      resolveMcpTools(
        team([
          { name: 'a', handoffs: [{ target: 'b', name: 'lookup' }], mcp: [{ server: 'desk' }] },
          { name: 'b', mcp: [{ server: 'rates' }, { server: 'fx' }] },
        ]),
        servers,
        recording().list,
      ),
    );
    expect(issues).toStrictEqual([
      { path: 'agents.0.mcp.0.tools', message: 'tool name "lookup" is already used by this agent' },
      { path: 'agents.1.mcp.1.tools', message: 'tool name "convert" is already used by this agent' },
    ]);
  });

  it('the error names its code and every issue', async () => {
    const error = await resolveMcpTools(
      team([{ name: 'a', mcp: [{ server: 'nope' }, { server: 'desk', tools: ['gone'] }] }]),
      servers,
      recording().list,
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'McpToolsRefused',
      code: 'mcp_tools_refused',
      retryable: false,
      message:
        'MCP tools refused: agents.0.mcp.0.server: not a registered MCP server; ' +
        'agents.0.mcp.1.tools.0: not a tool of MCP server "desk"',
    });
  });
});
