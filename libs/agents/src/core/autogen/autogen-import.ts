import type { TerminationPolicy } from '../spec/termination.schema.ts';
import { teamSpecSchema, type TeamSpec, type TeamSpecInput } from '../spec/team-spec.ts';

/** One component we cannot run, with where it is and what it is. */
export type ImportIssue = Readonly<{ path: string; provider: string; message: string }>;

/**
 * An AutoGen component we cannot run (a web surfer, Python source, an unknown provider…). The
 * message names each JSON path and provider; the gateway answers 422 with it.
 */
export class UnsupportedComponent extends Error {
  readonly code = 'unsupported_component';
  readonly retryable = false;
  readonly issues: readonly ImportIssue[];
  constructor(issues: readonly ImportIssue[]) {
    super(
      `cannot run this AutoGen component: ${issues.map((i) => `${i.path} (${i.provider}): ${i.message}`).join('; ')}`,
    );
    this.name = 'UnsupportedComponent';
    this.issues = issues;
  }
}

export type AutogenImportOptions = Readonly<{
  /** Tools a FunctionTool may bind to, by name (its Python source is never run). */
  toolNames: readonly string[];
}>;

type Json = Readonly<Record<string, unknown>>;
type Component = Readonly<{ provider: string; component_type?: string; config: Json; label?: string }>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** AutoGen AgentChat component JSON: `provider` + `config` (and usually `component_type`). */
export const isAutogenComponent = (value: unknown): value is Component =>
  isObject(value) && typeof value['provider'] === 'string' && isObject(value['config']);

/** Where a gallery keeps its teams: `items.teams` (older AutoGen Studio) or `components.teams`. */
const galleryTeamsKey = (value: unknown): 'items' | 'components' | null => {
  if (!isObject(value) || isAutogenComponent(value)) return null;
  for (const key of ['items', 'components'] as const) {
    const section = value[key];
    if (isObject(section) && Array.isArray(section['teams'])) return key;
  }
  return null;
};

/** An AutoGen Studio gallery (teams and components): a collection, not a component. */
export const isAutogenGallery = (value: unknown): boolean => galleryTeamsKey(value) !== null;

/** The class name at the end of a provider path, when the module is one of AutoGen's. */
const known = (provider: string): string | null => {
  const parts = provider.split('.');
  const root = parts[0] ?? '';
  return ['autogen_agentchat', 'autogen_ext', 'autogen_core'].includes(root) ? (parts.at(-1) ?? null) : null;
};

class Importer {
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

  team(c: Component, path: string): TeamSpecInput | undefined {
    const cls = known(c.provider);
    const cfg = c.config;
    if (c.component_type === 'agent' || ['AssistantAgent', 'UserProxyAgent'].includes(cls ?? '')) {
      const agent = this.agent(c, path);
      return agent ? { specVersion: 1, name: agent.name, type: 'single', agents: [agent] } : undefined;
    }
    const type =
      cls === 'RoundRobinGroupChat'
        ? 'round_robin'
        : cls === 'SelectorGroupChat'
          ? 'selector'
          : cls === 'Swarm'
            ? 'swarm'
            : undefined;
    if (!type)
      return this.reject(
        path,
        c.provider,
        'not a team we can run (RoundRobinGroupChat, SelectorGroupChat or Swarm)',
      );
    for (const key of ['selector_func', 'candidate_func'])
      if (cfg[key] !== undefined && cfg[key] !== null)
        this.reject(`${path}.config.${key}`, c.provider, `${key} is Python code and cannot run here`);
    const participants = Array.isArray(cfg['participants']) ? cfg['participants'] : [];
    if (participants.length === 0)
      this.reject(`${path}.config.participants`, c.provider, 'a team needs participants');
    const agents = participants.flatMap((p, i) => {
      const at = `${path}.config.participants[${i}]`;
      const pc = this.component(p, at);
      const agent = pc ? this.agent(pc, at) : undefined;
      return agent ? [agent] : [];
    });
    const termination = cfg['termination_condition']
      ? this.termination(cfg['termination_condition'], `${path}.config.termination_condition`)
      : undefined;
    const selectorModel =
      type === 'selector' && cfg['model_client']
        ? this.model(cfg['model_client'], `${path}.config.model_client`)
        : undefined;
    const name = typeof c.label === 'string' && c.label.trim() ? c.label.trim().slice(0, 128) : type;
    return {
      specVersion: 1,
      name,
      ...(typeof (c as Json)['description'] === 'string'
        ? { description: (c as Json)['description'] as string }
        : {}),
      type,
      agents,
      ...(termination ? { termination } : {}),
      ...(typeof cfg['max_turns'] === 'number' ? { maxTurns: cfg['max_turns'] } : {}),
      ...(type === 'selector'
        ? {
            selector: {
              ...(selectorModel ? { model: selectorModel } : {}),
              ...(typeof cfg['selector_prompt'] === 'string' ? { prompt: cfg['selector_prompt'] } : {}),
              allowRepeatedSpeaker: cfg['allow_repeated_speaker'] === true,
              ...(typeof cfg['max_selector_attempts'] === 'number'
                ? { maxSelectorAttempts: cfg['max_selector_attempts'] }
                : {}),
            },
          }
        : {}),
    };
  }

  agent(c: Component, path: string): TeamSpecInput['agents'][number] | undefined {
    const cls = known(c.provider);
    const cfg = c.config;
    const name = typeof cfg['name'] === 'string' ? cfg['name'] : undefined;
    const description = typeof cfg['description'] === 'string' ? cfg['description'] : undefined;
    if (cls === 'UserProxyAgent') {
      if (!name) return this.reject(`${path}.config.name`, c.provider, 'an agent needs a name');
      return { kind: 'user_proxy', name, ...(description ? { description } : {}) };
    }
    if (cls !== 'AssistantAgent')
      return this.reject(
        path,
        c.provider,
        'this agent type cannot run here (only AssistantAgent and UserProxyAgent)',
      );
    if (!name) return this.reject(`${path}.config.name`, c.provider, 'an agent needs a name');
    const model = cfg['model_client']
      ? this.model(cfg['model_client'], `${path}.config.model_client`)
      : undefined;
    const tools = [
      ...this.tools(cfg['tools'], `${path}.config.tools`),
      ...this.workbench(cfg['workbench'], `${path}.config.workbench`),
    ];
    const handoffs = this.handoffs(cfg['handoffs'], `${path}.config.handoffs`, c.provider);
    this.modelContext(cfg['model_context'], `${path}.config.model_context`);
    for (const key of ['memory', 'output_content_type', 'structured_message_factory'])
      if (cfg[key] !== undefined && cfg[key] !== null && !(Array.isArray(cfg[key]) && cfg[key].length === 0))
        this.reject(`${path}.config.${key}`, c.provider, `${key} is not supported`);
    const modelContext = this.contextSpec(cfg['model_context']);
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
  }

  modelContext(value: unknown, path: string): void {
    if (value === undefined || value === null) return;
    const c = this.component(value, path);
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
    this.reject(
      path,
      c.provider,
      'only Unbounded, Buffered and HeadAndTail chat completion contexts are supported',
    );
  }

  contextSpec(value: unknown): ModelContextInput | undefined {
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
  }

  model(value: unknown, path: string): ModelInput | undefined {
    const c = this.component(value, path);
    if (!c) return undefined;
    const cls = known(c.provider);
    const cfg = c.config;
    const common = {
      ...(typeof cfg['temperature'] === 'number' ? { temperature: cfg['temperature'] } : {}),
      ...(typeof cfg['max_tokens'] === 'number' ? { maxTokens: cfg['max_tokens'] } : {}),
      ...(typeof cfg['timeout'] === 'number' ? { timeoutSeconds: cfg['timeout'] } : {}),
      ...(typeof cfg['max_retries'] === 'number' ? { maxRetries: Math.min(10, cfg['max_retries']) } : {}),
    };
    const modelName = typeof cfg['model'] === 'string' ? cfg['model'] : undefined;
    switch (cls) {
      case 'OpenAIChatCompletionClient':
        if (!modelName) return this.reject(`${path}.config.model`, c.provider, 'a model name is required');
        return {
          provider: 'openai',
          model: modelName,
          ...(typeof cfg['base_url'] === 'string' ? { baseUrl: cfg['base_url'] } : {}),
          ...common,
        };
      case 'AzureOpenAIChatCompletionClient':
        if (!modelName) return this.reject(`${path}.config.model`, c.provider, 'a model name is required');
        return {
          provider: 'azure_openai',
          model: modelName,
          ...(typeof cfg['azure_endpoint'] === 'string' ? { baseUrl: cfg['azure_endpoint'] } : {}),
          ...(typeof cfg['api_version'] === 'string' ? { apiVersion: cfg['api_version'] } : {}),
          ...(typeof cfg['azure_deployment'] === 'string' ? { deployment: cfg['azure_deployment'] } : {}),
          apiKeyEnv: 'AZURE_OPENAI_API_KEY',
          ...common,
        };
      case 'OllamaChatCompletionClient': {
        if (!modelName) return this.reject(`${path}.config.model`, c.provider, 'a model name is required');
        const host = typeof cfg['host'] === 'string' ? cfg['host'] : 'http://localhost:11434';
        return { provider: 'openai', model: modelName, baseUrl: `${host.replace(/\/$/, '')}/v1`, ...common };
      }
      case 'ReplayChatCompletionClient': {
        const replies = Array.isArray(cfg['chat_completions']) ? cfg['chat_completions'] : [];
        if (!replies.every((r) => typeof r === 'string'))
          return this.reject(
            `${path}.config.chat_completions`,
            c.provider,
            'only text replies can be replayed',
          );
        return { provider: 'scripted', model: 'replay', script: replies as string[] };
      }
      default:
        return this.reject(
          path,
          c.provider,
          'this model client cannot run here (OpenAI-compatible, Azure OpenAI, Ollama, Replay)',
        );
    }
  }

  tools(value: unknown, path: string): string[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) return this.reject(path, '(none)', 'tools must be a list') ?? [];
    return value.flatMap((t, i) => {
      const at = `${path}[${i}]`;
      const c = this.component(t, at);
      if (!c) return [];
      if (known(c.provider) !== 'FunctionTool')
        return (
          this.reject(
            at,
            c.provider,
            'this tool type cannot run here; register a tool and use a FunctionTool with its name',
          ) ?? []
        );
      const name = c.config['name'];
      if (typeof name !== 'string')
        return this.reject(`${at}.config.name`, c.provider, 'a FunctionTool needs a name') ?? [];
      if (!this.options.toolNames.includes(name))
        return (
          this.reject(
            at,
            c.provider,
            `FunctionTool "${name}" is Python source that cannot run here, and no tool named "${name}" is registered`,
          ) ?? []
        );
      return [name];
    });
  }

  workbench(value: unknown, path: string): string[] {
    if (value === undefined || value === null) return [];
    const list = Array.isArray(value) ? value : [value];
    const at = (i: number): string => (Array.isArray(value) ? `${path}[${i}]` : path);
    return list.flatMap((w, i) => {
      const c = this.component(w, at(i));
      if (!c) return [];
      const cls = known(c.provider);
      if (cls !== 'StaticWorkbench' && cls !== 'StaticStreamWorkbench')
        return (
          this.reject(at(i), c.provider, 'only static workbenches (a fixed list of tools) are supported') ??
          []
        );
      return this.tools(c.config['tools'], `${at(i)}.config.tools`);
    });
  }

  handoffs(value: unknown, path: string, provider: string): HandoffInput[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) return this.reject(path, provider, 'handoffs must be a list') ?? [];
    return value.flatMap((h, i): HandoffInput[] => {
      if (typeof h === 'string') return [h];
      if (isObject(h) && typeof h['target'] === 'string') {
        const pick = (k: string): Record<string, string> => (typeof h[k] === 'string' ? { [k]: h[k] } : {});
        return [{ target: h['target'], ...pick('name'), ...pick('description'), ...pick('message') }];
      }
      return (
        this.reject(`${path}[${i}]`, provider, 'a handoff is a target name or an object with "target"') ?? []
      );
    });
  }

  termination(value: unknown, path: string): TerminationPolicy | undefined {
    const c = this.component(value, path);
    if (!c) return undefined;
    const cfg = c.config;
    const num = (k: string): number | undefined => (typeof cfg[k] === 'number' ? cfg[k] : undefined);
    const strings = (k: string): string[] | undefined =>
      Array.isArray(cfg[k]) && cfg[k].every((s) => typeof s === 'string') ? (cfg[k] as string[]) : undefined;
    switch (known(c.provider)) {
      case 'MaxMessageTermination':
        return {
          kind: 'max_messages',
          limit: num('max_messages') ?? 10,
          ...(cfg['include_agent_event'] === true ? { includeAgentEvents: true } : {}),
        };
      case 'TextMentionTermination': {
        const sources = strings('sources');
        return {
          kind: 'text_mention',
          text: String(cfg['text'] ?? 'TERMINATE'),
          ...(sources ? { sources } : {}),
        };
      }
      case 'TokenUsageTermination': {
        const budget = {
          ...(num('max_total_token') ? { maxTokens: num('max_total_token') } : {}),
          ...(num('max_prompt_token') ? { maxPromptTokens: num('max_prompt_token') } : {}),
          ...(num('max_completion_token') ? { maxCompletionTokens: num('max_completion_token') } : {}),
        };
        return { kind: 'token_budget', ...budget };
      }
      case 'TimeoutTermination':
        return { kind: 'timeout', seconds: num('timeout_seconds') ?? 60 };
      case 'HandoffTermination':
        return { kind: 'handoff', target: String(cfg['target'] ?? 'user') };
      case 'ExternalTermination':
        return { kind: 'external' };
      case 'SourceMatchTermination':
        return { kind: 'source_match', sources: strings('sources') ?? [] };
      case 'StopMessageTermination':
        return { kind: 'stop_message' };
      case 'TextMessageTermination':
        return {
          kind: 'text_message',
          ...(typeof cfg['source'] === 'string' ? { source: cfg['source'] } : {}),
        };
      case 'FunctionCallTermination':
        return { kind: 'function_call', functionName: String(cfg['function_name'] ?? '') };
      case 'OrTerminationCondition':
      case 'AndTerminationCondition': {
        const list = Array.isArray(cfg['conditions']) ? cfg['conditions'] : [];
        const conditions = list.flatMap((sub, i) => {
          const t = this.termination(sub, `${path}.config.conditions[${i}]`);
          return t ? [t] : [];
        });
        if (conditions.length !== list.length || conditions.length === 0) return undefined;
        return { kind: known(c.provider) === 'OrTerminationCondition' ? 'any_of' : 'all_of', conditions };
      }
      default:
        return this.reject(path, c.provider, 'this termination condition cannot run here');
    }
  }
}

type ModelInput = NonNullable<Extract<TeamSpecInput['agents'][number], { kind?: 'assistant' }>['model']>;
type ModelContextInput = NonNullable<
  Extract<TeamSpecInput['agents'][number], { kind?: 'assistant' }>['modelContext']
>;
type HandoffInput =
  string | Readonly<{ target: string; name?: string; description?: string; message?: string }>;

/**
 * Translates an AutoGen AgentChat component (a team, or a single agent) into our team spec.
 * FunctionTools bind by name to registered tools; anything we cannot run is rejected with
 * `UnsupportedComponent` naming each JSON path and provider. The result is validated by our schema.
 */
export const importAutogenComponent = (json: unknown, options: AutogenImportOptions): TeamSpec => {
  if (isAutogenGallery(json))
    throw new UnsupportedComponent([
      {
        path: '$',
        provider: '(gallery)',
        message: `this is an AutoGen Studio gallery, not a component; import one of $.${galleryTeamsKey(json)}.teams[i]`,
      },
    ]);
  const importer = new Importer(options);
  const root = importer.component(json, '$');
  const input = root ? importer.team(root, '$') : undefined;
  if (importer.issues.length > 0 || !input) throw new UnsupportedComponent(importer.issues);
  const parsed = teamSpecSchema.safeParse(input);
  if (!parsed.success)
    throw new UnsupportedComponent(
      parsed.error.issues.map((i) => ({
        path: '$',
        provider: root?.provider ?? '(none)',
        message: `translated spec is invalid at ${i.path.join('.') || '(root)'}: ${i.message}`,
      })),
    );
  return parsed.data;
};

export type GalleryImport = Readonly<{
  path: string;
  label: string;
  result: Readonly<{ ok: true; spec: TeamSpec }> | Readonly<{ ok: false; error: UnsupportedComponent }>;
}>;

/** Imports every team of an AutoGen Studio gallery, each on its own (paths are gallery-relative). */
export const importAutogenGallery = (
  json: unknown,
  options: AutogenImportOptions,
): readonly GalleryImport[] => {
  if (!isAutogenGallery(json))
    throw new UnsupportedComponent([
      { path: '$', provider: '(none)', message: 'not an AutoGen Studio gallery' },
    ]);
  const key = galleryTeamsKey(json)!;
  const teams = ((json as Json)[key] as Json)['teams'] as unknown[];
  return teams.map((team, i) => {
    const path = `$.${key}.teams[${i}]`;
    const label = isAutogenComponent(team) ? String(team.label ?? team.provider) : path;
    try {
      return { path, label, result: { ok: true, spec: importAutogenComponent(team, options) } };
    } catch (error) {
      if (!(error instanceof UnsupportedComponent)) throw error;
      const rebased = new UnsupportedComponent(
        error.issues.map((issue) => ({ ...issue, path: issue.path.replace(/^\$/, path) })),
      );
      return { path, label, result: { ok: false, error: rebased } };
    }
  });
};
