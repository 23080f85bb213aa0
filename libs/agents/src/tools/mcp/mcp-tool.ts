import { z } from 'zod';
import type { McpToolSpec, TeamSpec } from '../../core/spec/team-spec.ts';
import type { Tool, ToolContext } from '../tool.ts';

/** Calls one tool of a registered MCP server (the SDK adapter); resolves with its text result. */
export type McpToolCaller = (
  server: string,
  tool: string,
  args: unknown,
  ctx: ToolContext,
) => Promise<unknown>;

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The runnable tool for an MCP tool pinned in the spec: the model sees the pinned JSON schema, the
 * server validates the arguments, and the call is idempotent only when the tool declared
 * `idempotentHint` when it was listed.
 */
export const mcpTool = (pinned: McpToolSpec, call: McpToolCaller, timeoutMs = DEFAULT_TIMEOUT_MS): Tool =>
  Object.freeze({
    name: pinned.name,
    description: pinned.description,
    idempotent: pinned.idempotent,
    callIdempotent: () => pinned.idempotent,
    requiresApproval: false,
    timeoutMs,
    parameters: z.record(z.string(), z.unknown()),
    schema: { name: pinned.name, description: pinned.description, parameters: pinned.inputSchema },
    execute: (args: unknown, ctx: ToolContext) => call(pinned.server, pinned.name, args, ctx),
  });

/** The MCP tool `name` pinned for `agent` in the spec, if any. */
export const pinnedMcpTool = (
  spec: TeamSpec | null,
  agent: string,
  name: string,
): McpToolSpec | undefined => {
  const found = spec?.agents.find((a) => a.name === agent);
  return found?.kind === 'assistant' ? found.mcpTools?.find((t) => t.name === name) : undefined;
};
