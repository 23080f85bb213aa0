import { z } from 'zod';
import type { KeySource } from './model-endpoints.ts';
import { readJsonSetting } from './json-setting.ts';

/** A header (or stdio env var) value the operator sources from an env var or a file, never a literal. */
export type SecretValue = Readonly<{ source: KeySource; prefix?: string }>;

/** One operator-registered MCP server. Specs name it; they never carry its command, URL or secrets. */
export type McpServer = Readonly<{
  name: string;
  transport:
    | Readonly<{
        kind: 'stdio';
        command: string;
        args: readonly string[];
        cwd?: string;
        env?: Readonly<Record<string, SecretValue>>;
      }>
    | Readonly<{ kind: 'http'; url: string; headers?: Readonly<Record<string, SecretValue>> }>;
  /** Per-call time limit; default 30 s. */
  timeoutMs?: number;
}>;

export type McpServers = ReadonlyMap<string, McpServer>;

const VARIABLE = 'AGENTLEDGER_MCP_SERVERS';

const serverName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, . _ -');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');
const secretSchema = z.union([
  z.strictObject({ env: envName, prefix: z.string().optional() }),
  z.strictObject({ file: z.string().min(1), prefix: z.string().optional() }),
]);
const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'an HTTP header name');
const timeoutMs = z.number().int().positive().max(600_000).optional();

const serverSchema = z.union([
  z.strictObject({
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    cwd: z.string().min(1).optional(),
    env: z.record(envName, secretSchema).optional(),
    timeoutMs,
  }),
  z.strictObject({
    url: z.url({ protocol: /^https?$/ }),
    headers: z.record(headerName, secretSchema).optional(),
    timeoutMs,
  }),
]);

/** A configuration problem naming the key (values are never echoed: they may be secrets). */
export class InvalidMcpServers extends Error {
  readonly code = 'invalid_mcp_servers';
  readonly retryable = false;
}

const secretOf = (s: z.output<typeof secretSchema>): SecretValue => ({
  source: 'env' in s ? { kind: 'env', name: s.env } : { kind: 'file', path: s.file },
  ...(s.prefix === undefined ? {} : { prefix: s.prefix }),
});
const secretsOf = (r: Readonly<Record<string, z.output<typeof secretSchema>>>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, secretOf(v)]));

/** `http://h/mcp/` and `http://h/mcp` are one server. */
export const normalizeMcpUrl = (url: string): string => url.replace(/\/+$/, '');

/**
 * The operator's MCP servers: `AGENTLEDGER_MCP_SERVERS`, a JSON object (or the path of a file
 * holding one) of name → `{command, args, cwd, env}` (stdio) or `{url, headers}` (Streamable
 * HTTP); header and env values are `{env: NAME}` or `{file: PATH}` with an optional `prefix`,
 * read when connecting. Throws `InvalidMcpServers` naming the bad key.
 */
export const parseMcpServers = (
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): McpServers => {
  const servers = new Map<string, McpServer>();
  const raw = env[VARIABLE];
  if (raw === undefined || raw.trim() === '') return servers;
  const parsed = z
    .record(serverName, serverSchema)
    .safeParse(readJsonSetting(VARIABLE, raw, readFile, (message) => new InvalidMcpServers(message)));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${[VARIABLE, ...i.path].join('.')}: ${i.message}`);
    throw new InvalidMcpServers(issues.join('; '));
  }
  for (const [name, s] of Object.entries(parsed.data)) {
    const transport: McpServer['transport'] =
      'command' in s
        ? {
            kind: 'stdio',
            command: s.command,
            args: s.args,
            ...(s.cwd === undefined ? {} : { cwd: s.cwd }),
            ...(s.env === undefined ? {} : { env: secretsOf(s.env) }),
          }
        : {
            kind: 'http',
            url: normalizeMcpUrl(s.url),
            ...(s.headers === undefined ? {} : { headers: secretsOf(s.headers) }),
          };
    servers.set(name, { name, transport, ...(s.timeoutMs === undefined ? {} : { timeoutMs: s.timeoutMs }) });
  }
  return servers;
};

/** `parseMcpServers` for a configuration parser that collects every problem before throwing. */
export const readMcpServers = (
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): Readonly<{ servers: McpServers }> | Readonly<{ problem: string }> => {
  try {
    return { servers: parseMcpServers(env, readFile) };
  } catch (error) {
    if (error instanceof InvalidMcpServers) return { problem: error.message };
    throw error;
  }
};

/** The server registered with this URL (Streamable HTTP), or this command and args (stdio). */
export const mcpServerByUrl = (servers: McpServers, url: string): McpServer | undefined =>
  [...servers.values()].find((s) => s.transport.kind === 'http' && s.transport.url === normalizeMcpUrl(url));

export const mcpServerByCommand = (
  servers: McpServers,
  command: string,
  args: readonly string[],
): McpServer | undefined =>
  [...servers.values()].find(
    (s) =>
      s.transport.kind === 'stdio' &&
      s.transport.command === command &&
      s.transport.args.length === args.length &&
      s.transport.args.every((a, i) => a === args[i]),
  );
