import type { McpServers } from '../spec/mcp-servers.ts';
import type { ModelEndpoints } from '../spec/model-endpoints.ts';

/** Shared by the AutoGen importer's parts: component shapes, provider names, issue collection. */

/** One component we cannot run, with where it is and what it is. */
export type ImportIssue = Readonly<{ path: string; provider: string; message: string }>;

export type AutogenImportOptions = Readonly<{
  /** Tools a FunctionTool may bind to, by name (its Python source is never run). */
  toolNames: readonly string[];
  /** The operator's model endpoints a `base_url` must belong to (absent: only `default`, no URL). */
  endpoints?: ModelEndpoints;
  /** The operator's MCP servers an McpWorkbench must be one of (absent: none). */
  mcpServers?: McpServers;
}>;

export type Json = Readonly<Record<string, unknown>>;
export type Component = Readonly<{ provider: string; component_type?: string; config: Json; label?: string }>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** AutoGen AgentChat component JSON: `provider` + `config` (and usually `component_type`). */
export const isAutogenComponent = (value: unknown): value is Component =>
  isObject(value) && typeof value['provider'] === 'string' && isObject(value['config']);

/** The class name at the end of a provider path, when the module is one of AutoGen's. */
export const known = (provider: string): string | null => {
  const parts = provider.split('.');
  const root = parts[0] ?? '';
  return ['autogen_agentchat', 'autogen_ext', 'autogen_core'].includes(root) ? (parts.at(-1) ?? null) : null;
};

/** Collects every issue of one import, so a rejection names them all. */
export class ImportContext {
  readonly issues: ImportIssue[] = [];
  readonly options: AutogenImportOptions;
  constructor(options: AutogenImportOptions) {
    this.options = options;
  }

  reject(path: string, provider: string, message: string): undefined {
    this.issues.push({ path, provider, message });
    return undefined;
  }

  component(value: unknown, path: string): Component | undefined {
    if (isAutogenComponent(value)) return value;
    return this.reject(path, '(none)', 'expected an AutoGen component with "provider" and "config"');
  }
}
