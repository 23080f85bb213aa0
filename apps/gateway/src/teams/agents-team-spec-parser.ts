import {
  InvalidTeamSpec,
  McpToolsRefused,
  resolveMcpTools,
  type McpServers,
  type McpToolLister,
  ModelEndpointRefused,
  parseTeamSpec,
  UnsupportedComponent,
  unknownToolNames,
  type ModelEndpoints,
} from '@agentledger/agents';
import type { TeamSpecIssue, TeamSpecParser } from './team-spec.ts';

/** `agents.0.name`, `$.config.participants[0]` → `/agents/0/name`, `/config/participants/0`. */
const toPointer = (path: string): string =>
  path
    .replace(/^\$/, '')
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((segment) => segment !== '')
    .map((segment) => `/${segment}`)
    .join('');

const NO_MCP = {
  servers: new Map(),
  list: () => Promise.reject(new Error('no MCP servers are registered')),
} as const;

/**
 * libs/agents' team spec parsing: our JSON or an AutoGen AgentChat component, normalised. A spec
 * that does not validate is `invalid` (400); one naming a component or a tool this server cannot
 * run, a model endpoint, URL or key source, or an MCP server or tool the operator did not configure,
 * is `unsupported`
 * (422), each issue naming the JSON path (and the AutoGen provider).
 */
export const createTeamSpecParser =
  (
    toolNames: readonly string[],
    endpoints: ModelEndpoints,
    mcp: Readonly<{ servers: McpServers; list: McpToolLister }> = NO_MCP,
  ): TeamSpecParser =>
  async (input) => {
    try {
      const parsed = parseTeamSpec(input, { toolNames, endpoints, mcpServers: mcp.servers });
      // MCP tools are listed now and pinned in the spec; a tenant's own `mcpTools` are replaced.
      const spec = await resolveMcpTools(parsed, mcp.servers, mcp.list);
      const unknown = unknownToolNames(spec, toolNames);
      if (unknown.length === 0) return { ok: true, spec };
      const issues: TeamSpecIssue[] = unknown.map((name) => ({
        path: '/agents',
        message: `unknown tool ${JSON.stringify(name)}`,
      }));
      return { ok: false, kind: 'unsupported', issues };
    } catch (error) {
      if (error instanceof InvalidTeamSpec) {
        return {
          ok: false,
          kind: 'invalid',
          issues: error.issues.map(({ path, message }) => ({ path: toPointer(path), message })),
        };
      }
      if (error instanceof ModelEndpointRefused || error instanceof McpToolsRefused) {
        const issues = error.issues.map(({ path, message }) => ({ path: toPointer(path), message }));
        return { ok: false, kind: 'unsupported', issues };
      }
      if (error instanceof UnsupportedComponent) {
        const issues = error.issues.map(({ path, provider, message }) => ({
          path: toPointer(path),
          message: `${provider}: ${message}`,
        }));
        return { ok: false, kind: 'unsupported', issues };
      }
      throw error;
    }
  };
