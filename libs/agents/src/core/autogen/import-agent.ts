import { mcpServerByCommand, mcpServerByUrl, type McpServer } from '../spec/mcp-servers.ts';
import type { McpToolset, TeamSpecInput } from '../spec/team-spec.ts';
import { isAutogenComponent, isObject, known, type Component, type ImportContext } from './import-context.ts';
import { importModel } from './import-model.ts';

type AssistantInput = Extract<TeamSpecInput['agents'][number], { kind?: 'assistant' }>;
type ModelContextInput = NonNullable<AssistantInput['modelContext']>;
type HandoffInput =
  string | Readonly<{ target: string; name?: string; description?: string; message?: string }>;

/** AssistantAgent and UserProxyAgent map; any other agent (web surfer, code executor…) is rejected. */
export const importAgent = (
  ctx: ImportContext,
  c: Component,
  path: string,
): TeamSpecInput['agents'][number] | undefined => {
  const cls = known(c.provider);
  const cfg = c.config;
  const name = typeof cfg['name'] === 'string' ? cfg['name'] : undefined;
  const description = typeof cfg['description'] === 'string' ? cfg['description'] : undefined;
  if (cls === 'UserProxyAgent') {
    if (!name) return ctx.reject(`${path}.config.name`, c.provider, 'an agent needs a name');
    return { kind: 'user_proxy', name, ...(description ? { description } : {}) };
  }
  if (cls !== 'AssistantAgent')
    return ctx.reject(
      path,
      c.provider,
      'this agent type cannot run here (only AssistantAgent and UserProxyAgent)',
    );
  if (!name) return ctx.reject(`${path}.config.name`, c.provider, 'an agent needs a name');
  const model = cfg['model_client']
    ? importModel(ctx, cfg['model_client'], `${path}.config.model_client`)
    : undefined;
  const workbench = importWorkbench(ctx, cfg['workbench'], `${path}.config.workbench`);
  const tools = [...importTools(ctx, cfg['tools'], `${path}.config.tools`), ...workbench.tools];
  const handoffs = importHandoffs(ctx, cfg['handoffs'], `${path}.config.handoffs`, c.provider);
  checkModelContext(ctx, cfg['model_context'], `${path}.config.model_context`);
  for (const key of ['memory', 'output_content_type', 'structured_message_factory'])
    if (cfg[key] !== undefined && cfg[key] !== null && !(Array.isArray(cfg[key]) && cfg[key].length === 0))
      ctx.reject(`${path}.config.${key}`, c.provider, `${key} is not supported`);
  const modelContext = modelContextSpec(cfg['model_context']);
  const parallel = isAutogenComponent(cfg['model_client'])
    ? cfg['model_client'].config['parallel_tool_calls']
    : undefined;
  return {
    kind: 'assistant',
    name,
    ...(description ? { description } : {}),
    ...(typeof cfg['system_message'] === 'string' ? { systemMessage: cfg['system_message'] } : {}),
    ...(model ? { model } : {}),
    tools,
    ...(workbench.mcp.length > 0 ? { mcp: workbench.mcp } : {}),
    handoffs,
    ...(typeof parallel === 'boolean' ? { parallelToolCalls: parallel } : {}),
    reflectOnToolUse: cfg['reflect_on_tool_use'] === true,
    ...(typeof cfg['max_tool_iterations'] === 'number'
      ? { maxToolIterations: cfg['max_tool_iterations'] }
      : {}),
    ...(typeof cfg['tool_call_summary_format'] === 'string'
      ? { toolCallSummaryFormat: cfg['tool_call_summary_format'] }
      : {}),
    ...(modelContext ? { modelContext } : {}),
  };
};

const checkModelContext = (ctx: ImportContext, value: unknown, path: string): void => {
  if (value === undefined || value === null) return;
  const c = ctx.component(value, path);
  if (!c) return;
  const cls = known(c.provider);
  if (cls === 'UnboundedChatCompletionContext') return;
  if (cls === 'BufferedChatCompletionContext' && typeof c.config['buffer_size'] === 'number') return;
  if (
    cls === 'HeadAndTailChatCompletionContext' &&
    typeof c.config['head_size'] === 'number' &&
    typeof c.config['tail_size'] === 'number'
  )
    return;
  ctx.reject(
    path,
    c.provider,
    'only Unbounded, Buffered and HeadAndTail chat completion contexts are supported',
  );
};

const modelContextSpec = (value: unknown): ModelContextInput | undefined => {
  if (!isAutogenComponent(value)) return undefined;
  const cfg = value.config;
  switch (known(value.provider)) {
    case 'BufferedChatCompletionContext':
      return typeof cfg['buffer_size'] === 'number'
        ? { kind: 'buffered', bufferSize: cfg['buffer_size'] }
        : undefined;
    case 'HeadAndTailChatCompletionContext':
      return typeof cfg['head_size'] === 'number' && typeof cfg['tail_size'] === 'number'
        ? { kind: 'head_and_tail', headSize: cfg['head_size'], tailSize: cfg['tail_size'] }
        : undefined;
    default:
      return undefined;
  }
};

/** FunctionTools bind by name to registered tools; their Python source never runs. */
const importTools = (ctx: ImportContext, value: unknown, path: string): string[] => {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return ctx.reject(path, '(none)', 'tools must be a list') ?? [];
  return value.flatMap((t, i) => {
    const at = `${path}[${i}]`;
    const c = ctx.component(t, at);
    if (!c) return [];
    if (known(c.provider) !== 'FunctionTool')
      return (
        ctx.reject(
          at,
          c.provider,
          'this tool type cannot run here; register a tool and use a FunctionTool with its name',
        ) ?? []
      );
    const name = c.config['name'];
    if (typeof name !== 'string')
      return ctx.reject(`${at}.config.name`, c.provider, 'a FunctionTool needs a name') ?? [];
    if (!ctx.options.toolNames.includes(name))
      return (
        ctx.reject(
          at,
          c.provider,
          `FunctionTool "${name}" is Python source that cannot run here, and no tool named "${name}" is registered`,
        ) ?? []
      );
    return [name];
  });
};

type Workbench = { tools: string[]; mcp: McpToolset[] };

const importWorkbench = (ctx: ImportContext, value: unknown, path: string): Workbench => {
  const out: Workbench = { tools: [], mcp: [] };
  if (value === undefined || value === null) return out;
  const list = Array.isArray(value) ? value : [value];
  const at = (i: number): string => (Array.isArray(value) ? `${path}[${i}]` : path);
  list.forEach((w, i) => {
    const c = ctx.component(w, at(i));
    if (!c) return;
    const cls = known(c.provider);
    if (cls === 'McpWorkbench') {
      const server = mcpServerOf(ctx, c, at(i));
      if (server !== undefined) out.mcp.push({ server });
    } else if (cls === 'StaticWorkbench' || cls === 'StaticStreamWorkbench')
      out.tools.push(...importTools(ctx, c.config['tools'], `${at(i)}.config.tools`));
    else ctx.reject(at(i), c.provider, 'only static and MCP workbenches are supported');
  });
  return out;
};

/**
 * An McpWorkbench runs only as a server the operator registered: by its Streamable HTTP (or SSE)
 * URL, its stdio command and arguments, or a label naming it. Its command, env and headers are
 * never used (they are the operator's to set); anything else is rejected naming the field.
 */
const mcpServerOf = (ctx: ImportContext, c: Component, path: string): string | undefined => {
  const servers = ctx.options.mcpServers ?? new Map<string, McpServer>();
  if (c.label !== undefined && servers.has(c.label)) return c.label;
  const params = c.config['server_params'];
  const at = `${path}.config.server_params`;
  if (!isObject(params)) return ctx.reject(at, c.provider, 'an McpWorkbench needs server_params');
  if (typeof params['url'] === 'string') {
    const byUrl = mcpServerByUrl(servers, params['url']);
    if (byUrl) return byUrl.name;
    return ctx.reject(`${at}.url`, c.provider, 'not the URL of a registered MCP server');
  }
  if (typeof params['command'] === 'string') {
    const args = Array.isArray(params['args']) ? params['args'].map(String) : [];
    const byCommand = mcpServerByCommand(servers, params['command'], args);
    if (byCommand) return byCommand.name;
    return ctx.reject(`${at}.command`, c.provider, 'not the command of a registered MCP server');
  }
  return ctx.reject(at, c.provider, 'server_params names neither a URL nor a command');
};

const importHandoffs = (
  ctx: ImportContext,
  value: unknown,
  path: string,
  provider: string,
): HandoffInput[] => {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return ctx.reject(path, provider, 'handoffs must be a list') ?? [];
  return value.flatMap((h, i): HandoffInput[] => {
    if (typeof h === 'string') return [h];
    if (isObject(h) && typeof h['target'] === 'string') {
      const pick = (k: string): Record<string, string> => (typeof h[k] === 'string' ? { [k]: h[k] } : {});
      return [{ target: h['target'], ...pick('name'), ...pick('description'), ...pick('message') }];
    }
    return (
      ctx.reject(`${path}[${i}]`, provider, 'a handoff is a target name or an object with "target"') ?? []
    );
  });
};
