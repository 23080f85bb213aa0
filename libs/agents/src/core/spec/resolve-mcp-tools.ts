import { mcpServerByUrl, type McpServers } from './mcp-servers.ts';
import type { AgentSpec, McpToolset, McpToolSpec, TeamSpec } from './team-spec.ts';

/** A tool as an MCP server lists it (`tools/list`), reduced to what a spec pins. */
export type McpToolInfo = Omit<McpToolSpec, 'server'>;
/** Lists a registered server's tools (the MCP client adapter); rejects when it cannot. */
export type McpToolLister = (server: string) => Promise<readonly McpToolInfo[]>;

export type McpIssue = Readonly<{ path: string; message: string }>;

/** A spec naming an MCP server or tool the operator did not register, or carrying a command/URL (422). */
export class McpToolsRefused extends Error {
  readonly code = 'mcp_tools_refused';
  readonly retryable = false;
  readonly issues: readonly McpIssue[];
  constructor(issues: readonly McpIssue[]) {
    super(`MCP tools refused: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'McpToolsRefused';
    this.issues = issues;
  }
}

const OPERATOR_FIELDS = ['command', 'args', 'env', 'headers'] as const;

/** The registered server a toolset names (by name, or by its URL), collecting issues otherwise. */
const serverOf = (
  ref: McpToolset,
  servers: McpServers,
  path: string,
  issues: McpIssue[],
): string | undefined => {
  for (const field of OPERATOR_FIELDS)
    if (ref[field] !== undefined)
      issues.push({
        path: `${path}.${field}`,
        message: 'MCP servers are operator configuration: name a registered server',
      });
  let name = ref.server;
  if (ref.url !== undefined) {
    const byUrl = mcpServerByUrl(servers, ref.url);
    if (!byUrl || (name !== undefined && name !== byUrl.name)) {
      issues.push({
        path: `${path}.url`,
        message: 'not the URL of a registered MCP server; name one with "server"',
      });
      return undefined;
    }
    name = byUrl.name;
  }
  if (name === undefined) issues.push({ path: `${path}.server`, message: 'name a registered MCP server' });
  else if (!servers.has(name))
    issues.push({ path: `${path}.server`, message: 'not a registered MCP server' });
  else return name;
  return undefined;
};

const resolveAgent = async (
  agent: AgentSpec,
  i: number,
  servers: McpServers,
  list: McpToolLister,
  issues: McpIssue[],
): Promise<AgentSpec> => {
  if (agent.kind !== 'assistant') return agent;
  const { mcp, mcpTools: _tenantValue, ...rest } = agent;
  if (!mcp || mcp.length === 0) return rest;
  const refs: McpToolset[] = [];
  const pinned: McpToolSpec[] = [];
  const taken = new Set([...rest.tools, ...rest.handoffs.map((h) => h.name)]);
  for (const [j, ref] of mcp.entries()) {
    const path = `agents.${i}.mcp.${j}`;
    const server = serverOf(ref, servers, path, issues);
    if (server === undefined) continue;
    let listed: readonly McpToolInfo[];
    try {
      listed = await list(server);
    } catch {
      issues.push({ path: `${path}.server`, message: `could not list the tools of MCP server "${server}"` });
      continue;
    }
    ref.tools?.forEach((name, k) => {
      if (!listed.some((t) => t.name === name))
        issues.push({ path: `${path}.tools.${k}`, message: `not a tool of MCP server "${server}"` });
    });
    for (const tool of listed.filter((t) => ref.tools?.includes(t.name) ?? true)) {
      if (taken.has(tool.name))
        issues.push({
          path: `${path}.tools`,
          message: `tool name "${tool.name}" is already used by this agent`,
        });
      taken.add(tool.name);
      pinned.push({ server, ...tool });
    }
    refs.push({ server, ...(ref.tools ? { tools: ref.tools } : {}) });
  }
  return { ...rest, mcp: refs, mcpTools: pinned };
};

/**
 * Binds each agent's `mcp` toolsets to the operator's registered servers and pins the tools they
 * list (name, description, JSON schema, idempotency hint) into the spec; whatever `mcpTools` the
 * input carried is replaced. Throws `McpToolsRefused` naming each bad field.
 */
export const resolveMcpTools = async (
  spec: TeamSpec,
  servers: McpServers,
  list: McpToolLister,
): Promise<TeamSpec> => {
  const issues: McpIssue[] = [];
  const agents: AgentSpec[] = [];
  for (const [i, agent] of spec.agents.entries())
    agents.push(await resolveAgent(agent, i, servers, list, issues));
  if (issues.length > 0) throw new McpToolsRefused(issues);
  return { ...spec, agents };
};
