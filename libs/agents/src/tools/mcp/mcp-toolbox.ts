import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { McpServer, McpServers, SecretValue } from '../../core/spec/mcp-servers.ts';
import type { KeySource } from '../../core/spec/model-endpoints.ts';
import type { McpToolInfo } from '../../core/spec/resolve-mcp-tools.ts';
import type { ToolContext } from '../tool.ts';

export type McpToolbox = Readonly<{
  /** The server's tools (`tools/list`), its annotations reduced to the idempotency hint. */
  list: (server: string) => Promise<readonly McpToolInfo[]>;
  /** Calls a tool with the call's signal; the idempotency key travels in `_meta`. */
  call: (server: string, tool: string, args: unknown, ctx: ToolContext) => Promise<string>;
  close: () => Promise<void>;
}>;

export type McpToolboxOptions = Readonly<{
  servers: McpServers;
  /** Reads a secret the operator named (env var or file) when a connection opens; undefined: absent. */
  readSecret: (source: KeySource) => string | undefined;
  clientName?: string;
}>;

type ToolResult = Readonly<{ content?: unknown; isError?: boolean }>;

const resultText = (result: ToolResult): string => {
  const content = Array.isArray(result.content)
    ? (result.content as { type?: string; text?: unknown }[])
    : [];
  return content
    .map((c) => (c.type === 'text' && typeof c.text === 'string' ? c.text : JSON.stringify(c)))
    .join('\n');
};

const secretsFor = (
  values: Readonly<Record<string, SecretValue>> | undefined,
  readSecret: McpToolboxOptions['readSecret'],
): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [key, { source, prefix }] of Object.entries(values ?? {})) {
    const value = readSecret(source);
    if (value !== undefined) out[key] = `${prefix ?? ''}${value}`;
  }
  return out;
};

const transportFor = (server: McpServer, readSecret: McpToolboxOptions['readSecret']) => {
  const t = server.transport;
  if (t.kind === 'http')
    return new StreamableHTTPClientTransport(new URL(t.url), {
      requestInit: { headers: secretsFor(t.headers, readSecret) },
    });
  return new StdioClientTransport({
    command: t.command,
    args: [...t.args],
    ...(t.cwd === undefined ? {} : { cwd: t.cwd }),
    env: { ...getDefaultEnvironment(), ...secretsFor(t.env, readSecret) },
    stderr: 'ignore',
  });
};

/**
 * The MCP client side: one connection per operator-registered server, opened on first use and
 * reopened after it fails. Only servers in `servers` are ever contacted; secrets are read when a
 * connection opens and never leave it.
 */
export const createMcpToolbox = (options: McpToolboxOptions): McpToolbox => {
  const clients = new Map<string, Promise<Client>>();
  const connect = (name: string): Promise<Client> => {
    const existing = clients.get(name);
    if (existing) return existing;
    const server = options.servers.get(name);
    if (!server) return Promise.reject(new Error(`MCP server "${name}" is not registered`));
    const client = new Client({ name: options.clientName ?? 'agentledger', version: '0.1.0' });
    client.onclose = () => {
      if (clients.get(name) === opened) clients.delete(name);
    };
    const opened = client.connect(transportFor(server, options.readSecret)).then(() => client);
    opened.catch(() => clients.delete(name));
    clients.set(name, opened);
    return opened;
  };
  const timeoutOf = (name: string): number => options.servers.get(name)?.timeoutMs ?? 30_000;
  return {
    list: async (name) => {
      const client = await connect(name);
      const tools: McpToolInfo[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor === undefined ? {} : { cursor }, {
          timeout: timeoutOf(name),
        });
        for (const tool of page.tools)
          tools.push({
            name: tool.name,
            description: tool.description ?? '',
            inputSchema: tool.inputSchema as Record<string, unknown>,
            idempotent: tool.annotations?.idempotentHint === true,
          });
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return tools.filter((t) => /^[A-Za-z0-9_-]{1,64}$/.test(t.name));
    },
    call: async (name, tool, args, ctx) => {
      const client = await connect(name);
      const result = (await client.callTool(
        {
          name: tool,
          arguments: (args ?? {}) as Record<string, unknown>,
          _meta: { idempotencyKey: ctx.idempotencyKey },
        },
        undefined,
        { signal: ctx.signal, timeout: timeoutOf(name) },
      )) as ToolResult;
      const text = resultText(result);
      if (result.isError) throw new Error(text.slice(0, 2_000) || `MCP tool "${tool}" failed`);
      return text;
    },
    close: async () => {
      const open = [...clients.values()];
      clients.clear();
      await Promise.all(open.map((c) => c.then((client) => client.close()).catch(() => undefined)));
    },
  };
};
