import type { z } from 'zod';
import { readMcpServers, type McpServers } from './mcp-servers.ts';
import { readModelEndpoints, type ModelEndpoints } from './model-endpoints.ts';

/** What every app's configuration adds to its schema's output: the operator's two registries. */
export type OperatorRegistries = Readonly<{ MODEL_ENDPOINTS: ModelEndpoints; MCP_SERVERS: McpServers }>;

/**
 * Parses `env` with an app's `schema` and reads the operator's model endpoints and MCP servers
 * (JSON or files, through `readFile`); throws naming every bad variable of the three, values never
 * echoed. The gateway, the orchestrator runtime and `npm start` all parse through it.
 */
export const parseOperatorConfig = <T extends z.ZodType>(
  schema: T,
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
  what: string,
): z.output<T> & OperatorRegistries => {
  const result = schema.safeParse(env);
  const endpoints = readModelEndpoints(env, readFile);
  const mcp = readMcpServers(env, readFile);
  if (result.success && 'endpoints' in endpoints && 'servers' in mcp)
    return {
      ...(result.data as object),
      MODEL_ENDPOINTS: endpoints.endpoints,
      MCP_SERVERS: mcp.servers,
    } as z.output<T> & OperatorRegistries;
  const problems = [
    ...(result.success
      ? []
      : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)),
    ...('problem' in endpoints ? [endpoints.problem] : []),
    ...('problem' in mcp ? [mcp.problem] : []),
  ];
  throw new Error(`Invalid ${what}:\n  ${problems.join('\n  ')}`);
};
