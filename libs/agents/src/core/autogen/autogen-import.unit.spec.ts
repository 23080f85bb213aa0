import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runTeam } from '@agentledger/sessions';
import { createScriptedModelClient } from '../../model/scripted-client.ts';
import { BUILTIN_TOOL_NAMES } from '../../tools/builtin.ts';
import { parseMcpServers } from '../spec/mcp-servers.ts';
import { parseModelEndpoints } from '../spec/model-endpoints.ts';
import {
  importAutogenComponent,
  importAutogenGallery,
  UnsupportedComponent,
  type AutogenImportOptions,
} from './autogen-import.ts';

/** A copy of the shared fixtures (with their SOURCES.md attribution), so the suite runs on a clean clone. */
const fixtures = fileURLToPath(new URL('../../../fixtures/autogen/', import.meta.url));
const load = (name: string): unknown => JSON.parse(readFileSync(`${fixtures}${name}.txt`, 'utf8'));
const options = { toolNames: [...BUILTIN_TOOL_NAMES] };

const rejection = (json: unknown, importOptions: AutogenImportOptions = options): UnsupportedComponent => {
  try {
    importAutogenComponent(json, importOptions);
  } catch (error) {
    if (error instanceof UnsupportedComponent) return error;
    throw error;
  }
  throw new Error('expected a rejection');
};

/** Which shared fixture does what: asserted below and listed in the closing note. */
const RUNS = [
  'docs-usage-weather-team.json',
  'notebooks-team.json',
  'serialize-components-agent-assistant-handoffs.json',
  'team-roundrobin-team.json',
  'travel-team.json',
] as const;
const REJECTED = {
  'gallery-default.json':
    'cannot run this AutoGen component: $ ((gallery)): this is an AutoGen Studio gallery, not a component; import one of $.items.teams[i]',
  'team-web-agent-team-operator.json':
    'cannot run this AutoGen component: $.config.participants[0] (autogen_ext.agents.web_surfer.MultimodalWebSurfer): this agent type cannot run here (only AssistantAgent and UserProxyAgent)',
} as const;

describe('AutoGen fixtures', () => {
  // Running them (runTeam) is proven in libs/sessions/src/run-team/run-team.autogen.unit.spec.ts.
  it.each(RUNS)('%s imports', (name) => {
    expect(importAutogenComponent(load(name), options).agents.length).toBeGreaterThan(0);
  });

  it.each(Object.entries(REJECTED))('%s is rejected with a precise message', (name, message) => {
    expect(rejection(load(name)).message).toBe(message);
  });

  it('covers every shared fixture', () => {
    const all = readdir();
    expect([...RUNS, ...Object.keys(REJECTED)].sort()).toEqual(all);
  });

  it('maps the gallery default team to our spec: round robin, calculator, Or(text, max 10)', () => {
    const spec = importAutogenComponent(load('team-roundrobin-team.json'), options);
    expect(spec).toMatchObject({
      type: 'round_robin',
      name: 'RoundRobin Team',
      agents: [
        {
          kind: 'assistant',
          name: 'assistant_agent',
          tools: ['calculator'],
          model: { provider: 'openai', model: 'gpt-4o-mini' },
        },
      ],
      termination: {
        kind: 'any_of',
        conditions: [
          { kind: 'text_mention', text: 'TERMINATE' },
          { kind: 'max_messages', limit: 10 },
        ],
      },
    });
    expect(importAutogenComponent(load('notebooks-team.json'), options).agents[0]).toMatchObject({
      maxToolIterations: 1,
    });
  });

  it('maps an agent with handoffs to a single team', () => {
    const spec = importAutogenComponent(load('serialize-components-agent-assistant-handoffs.json'), options);
    expect(spec.type).toBe('single');
    expect(spec.agents[0]).toMatchObject({
      name: 'assistant',
      handoffs: [
        { target: 'flights_refunder', name: 'transfer_to_flights_refunder' },
        { target: 'user', name: 'transfer_to_user' },
      ],
    });
  });

  it('imports every team of the gallery on its own', () => {
    const results = importAutogenGallery(load('gallery-default.json'), options);
    expect(results.map((r) => [r.label, r.result.ok])).toEqual([
      ['Default Team', true],
      ['Web Agent Team (Operator)', false],
    ]);
    const rejected = results[1]!.result;
    if (rejected.ok) throw new Error('expected a rejection');
    expect(rejected.error.issues).toEqual([
      {
        path: '$.items.teams[1].config.participants[0]',
        provider: 'autogen_ext.agents.web_surfer.MultimodalWebSurfer',
        message: 'this agent type cannot run here (only AssistantAgent and UserProxyAgent)',
      },
    ]);
  });
});

describe('importer rejections and mappings', () => {
  it('reads galleries that keep their teams under components.teams (newer AutoGen Studio)', () => {
    const team = load('team-roundrobin-team.json');
    const gallery = { id: 'g', components: { teams: [team], agents: [] } };
    expect(rejection(gallery).message).toContain('import one of $.components.teams[i]');
    expect(importAutogenGallery(gallery, options).map((r) => [r.path, r.result.ok])).toEqual([
      ['$.components.teams[0]', true],
    ]);
  });

  it('maps Buffered and HeadAndTail model contexts and rejects other ones', () => {
    const ctx = (provider: string, config: Record<string, unknown>) => ({
      provider: `autogen_core.model_context.${provider}`,
      config,
    });
    const withContext = (c: unknown) =>
      team('autogen_agentchat.teams.RoundRobinGroupChat', [assistant({ model_context: c })]);
    expect(
      importAutogenComponent(withContext(ctx('BufferedChatCompletionContext', { buffer_size: 5 })), options)
        .agents[0],
    ).toMatchObject({
      modelContext: { kind: 'buffered', bufferSize: 5 },
    });
    expect(
      importAutogenComponent(
        withContext(ctx('HeadAndTailChatCompletionContext', { head_size: 1, tail_size: 4 })),
        options,
      ).agents[0],
    ).toMatchObject({ modelContext: { kind: 'head_and_tail', headSize: 1, tailSize: 4 } });
    expect(rejection(withContext(ctx('TokenLimitedChatCompletionContext', {}))).issues[0]).toMatchObject({
      path: '$.config.participants[0].config.model_context',
    });
  });

  it('rejects a model, tool or termination component given on its own, and an MCP workbench', () => {
    expect(
      rejection({
        provider: 'autogen_ext.models.openai.OpenAIChatCompletionClient',
        component_type: 'model',
        config: { model: 'm' },
      }).issues[0],
    ).toMatchObject({
      path: '$',
      provider: 'autogen_ext.models.openai.OpenAIChatCompletionClient',
    });
    const mcp = team('autogen_agentchat.teams.RoundRobinGroupChat', [
      assistant({
        workbench: [{ provider: 'autogen_ext.tools.mcp.McpWorkbench', config: { server_params: {} } }],
      }),
    ]);
    expect(rejection(mcp).issues[0]).toEqual({
      path: '$.config.participants[0].config.workbench[0].config.server_params',
      provider: 'autogen_ext.tools.mcp.McpWorkbench',
      message: 'server_params names neither a URL nor a command',
    });
  });

  describe('McpWorkbench maps to an operator-registered MCP server, or is rejected naming the path', () => {
    const mcpServers = parseMcpServers(
      {
        AGENTLEDGER_MCP_SERVERS: JSON.stringify({
          desk: { command: 'node', args: ['desk-server.ts'] },
          rates: { url: 'http://127.0.0.1:7777/mcp', headers: { Authorization: { env: 'RATES_TOKEN' } } },
        }),
      },
      () => '',
    );
    const workbench = (label: string, server_params: Record<string, unknown>) => ({
      provider: 'autogen_ext.tools.mcp.McpWorkbench',
      component_type: 'workbench',
      version: 1,
      component_version: 1,
      description: 'Local MCP server',
      label,
      config: { server_params, tool_overrides: {} },
    });
    const withWorkbenches = (...w: unknown[]) =>
      team('autogen_agentchat.teams.RoundRobinGroupChat', [assistant({ workbench: w })]);
    const http = (url: string) => ({
      type: 'StreamableHttpServerParams',
      url,
      headers: { Authorization: 'Bearer tenant-secret' },
      timeout: 30.0,
      sse_read_timeout: 300.0,
      terminate_on_close: true,
    });
    const stdio = (command: string, args: string[]) => ({
      type: 'StdioServerParams',
      command,
      args,
      env: { TOKEN: 'x' },
      read_timeout_seconds: 30,
    });

    it('by URL, by command and arguments, or by a label naming it; tenant headers and env are dropped', () => {
      const spec = importAutogenComponent(
        withWorkbenches(
          workbench('McpWorkbench', http('http://127.0.0.1:7777/mcp/')),
          workbench('McpWorkbench', stdio('node', ['desk-server.ts'])),
          workbench('desk', stdio('python', ['elsewhere.py'])),
        ),
        { ...options, mcpServers },
      );
      expect(spec.agents[0]).toMatchObject({
        mcp: [{ server: 'rates' }, { server: 'desk' }, { server: 'desk' }],
      });
      expect(JSON.stringify(spec)).not.toContain('tenant-secret');
    });

    it('an unregistered URL or command is rejected at its JSON path', () => {
      const refused = rejection(
        withWorkbenches(
          workbench('McpWorkbench', http('http://evil.example/mcp')),
          workbench('McpWorkbench', stdio('rm', ['-rf', '/'])),
        ),
        { ...options, mcpServers },
      );
      expect(refused.issues).toEqual([
        {
          path: '$.config.participants[0].config.workbench[0].config.server_params.url',
          provider: 'autogen_ext.tools.mcp.McpWorkbench',
          message: 'not the URL of a registered MCP server',
        },
        {
          path: '$.config.participants[0].config.workbench[1].config.server_params.command',
          provider: 'autogen_ext.tools.mcp.McpWorkbench',
          message: 'not the command of a registered MCP server',
        },
      ]);
    });
  });

  const assistant = (config: Record<string, unknown>) => ({
    provider: 'autogen_agentchat.agents.AssistantAgent',
    component_type: 'agent',
    config: {
      name: 'a',
      model_client: {
        provider: 'autogen_ext.models.openai.OpenAIChatCompletionClient',
        config: { model: 'm' },
      },
      ...config,
    },
  });
  const team = (provider: string, participants: unknown[], extra: Record<string, unknown> = {}) => ({
    provider,
    component_type: 'team',
    config: { participants, ...extra },
  });

  it('maps base_url to the configured endpoint with that URL, refuses others, and never keeps api_key', async () => {
    const endpoints = parseModelEndpoints(
      {
        AGENTLEDGER_MODEL_ENDPOINTS: '{"vllm": {"baseUrl": "http://vllm:8000/v1", "apiKeyEnv": "VLLM_KEY"}}',
      },
      () => '',
    );
    const client = (provider: string, config: Record<string, unknown>) =>
      team('autogen_agentchat.teams.RoundRobinGroupChat', [
        assistant({ model_client: { provider: `autogen_ext.models.${provider}`, config } }),
      ]);
    const secret = 'sk-tenant-secret-123';
    const mapped = importAutogenComponent(
      client('openai.OpenAIChatCompletionClient', {
        model: 'm',
        base_url: 'http://vllm:8000/v1/',
        api_key: secret,
      }),
      { ...options, endpoints },
    );
    expect(mapped.agents[0]).toMatchObject({ model: { provider: 'openai', model: 'm', endpoint: 'vllm' } });
    expect(JSON.stringify(mapped)).not.toContain(secret);
    expect(JSON.stringify(mapped)).not.toContain('vllm:8000');
    const plain = importAutogenComponent(
      {
        ...client('openai.OpenAIChatCompletionClient', { model: 'm', api_key: secret }),
        config: {
          ...client('openai.OpenAIChatCompletionClient', { model: 'm', api_key: secret }).config,
          termination_condition: {
            provider: 'autogen_agentchat.conditions.MaxMessageTermination',
            component_type: 'termination',
            config: { max_messages: 3 },
          },
        },
      },
      options,
    );
    expect(JSON.stringify(plain)).not.toContain(secret);

    const refused = (json: unknown, path: string) =>
      expect(rejection(json, { ...options, endpoints }).issues.map((i) => i.path)).toEqual([path]);
    const at = '$.config.participants[0].config.model_client.config';
    refused(
      client('openai.OpenAIChatCompletionClient', { model: 'm', base_url: 'http://attacker.example/v1' }),
      `${at}.base_url`,
    );
    refused(
      client('openai.AzureOpenAIChatCompletionClient', {
        model: 'm',
        azure_endpoint: 'https://x.openai.azure.com',
      }),
      `${at}.azure_endpoint`,
    );
    refused(client('ollama.OllamaChatCompletionClient', { model: 'm' }), `${at}.host`);
    expect(
      importAutogenComponent(
        client('ollama.OllamaChatCompletionClient', { model: 'm', host: 'http://vllm:8000' }),
        {
          ...options,
          endpoints,
        },
      ).agents[0],
    ).toMatchObject({ model: { endpoint: 'vllm' } });
  });

  it('names an unregistered FunctionTool (Python source) with its path', () => {
    const json = team('autogen_agentchat.teams.RoundRobinGroupChat', [
      assistant({
        tools: [
          {
            provider: 'autogen_core.tools.FunctionTool',
            config: { name: 'generate_image', source_code: 'def f(): ...' },
          },
        ],
      }),
    ]);
    expect(rejection(json).issues).toEqual([
      {
        path: '$.config.participants[0].config.tools[0]',
        provider: 'autogen_core.tools.FunctionTool',
        message:
          'FunctionTool "generate_image" is Python source that cannot run here, and no tool named "generate_image" is registered',
      },
    ]);
  });

  it('maps Swarm with handoffs, selector settings and every termination provider', () => {
    const cond = (name: string, config: Record<string, unknown> = {}) => ({
      provider: `autogen_agentchat.conditions.${name}`,
      component_type: 'termination',
      config,
    });
    const swarm = importAutogenComponent(
      team(
        'autogen_agentchat.teams.Swarm',
        [assistant({ name: 'a', handoffs: ['b', 'user'] }), assistant({ name: 'b' })],
        {
          termination_condition: {
            provider: 'autogen_agentchat.base.OrTerminationCondition',
            config: {
              conditions: [
                cond('HandoffTermination', { target: 'user' }),
                cond('TokenUsageTermination', { max_total_token: 1000 }),
                cond('TimeoutTermination', { timeout_seconds: 30 }),
                cond('ExternalTermination'),
                cond('SourceMatchTermination', { sources: ['b'] }),
                cond('StopMessageTermination'),
                cond('TextMessageTermination', { source: 'a' }),
                cond('FunctionCallTermination', { function_name: 'calculator' }),
                {
                  provider: 'autogen_agentchat.base.AndTerminationCondition',
                  config: {
                    conditions: [
                      cond('MaxMessageTermination', { max_messages: 5 }),
                      cond('TextMentionTermination', { text: 'DONE' }),
                    ],
                  },
                },
              ],
            },
          },
        },
      ),
      options,
    );
    expect(swarm.type).toBe('swarm');
    expect(swarm.termination).toEqual({
      kind: 'any_of',
      conditions: [
        { kind: 'handoff', target: 'user' },
        { kind: 'token_budget', maxTokens: 1000 },
        { kind: 'timeout', seconds: 30 },
        { kind: 'external' },
        { kind: 'source_match', sources: ['b'] },
        { kind: 'stop_message' },
        { kind: 'text_message', source: 'a' },
        { kind: 'function_call', functionName: 'calculator' },
        {
          kind: 'all_of',
          conditions: [
            { kind: 'max_messages', limit: 5 },
            { kind: 'text_mention', text: 'DONE' },
          ],
        },
      ],
    });
  });

  it('rejects an unknown termination, model client, team type and Python selector function', () => {
    const json = team(
      'autogen_agentchat.teams.SelectorGroupChat',
      [
        assistant({
          model_client: {
            provider: 'autogen_ext.models.anthropic.AnthropicChatCompletionClient',
            config: { model: 'c' },
          },
        }),
        assistant({ name: 'b' }),
      ],
      {
        selector_func: { source: 'def f(m): ...' },
        termination_condition: { provider: 'autogen_agentchat.conditions.FunctionalTermination', config: {} },
      },
    );
    expect(rejection(json).issues.map((i) => `${i.path} ${i.provider}`)).toEqual([
      '$.config.selector_func autogen_agentchat.teams.SelectorGroupChat',
      '$.config.participants[0].config.model_client autogen_ext.models.anthropic.AnthropicChatCompletionClient',
      '$.config.termination_condition autogen_agentchat.conditions.FunctionalTermination',
    ]);
    expect(
      rejection(team('autogen_agentchat.teams.DiGraphGroupChat', [assistant({})])).issues[0],
    ).toMatchObject({
      path: '$',
      provider: 'autogen_agentchat.teams.DiGraphGroupChat',
    });
  });

  it('rejects include_agent_event: true (agent events are not counted) naming its path, and takes false', () => {
    const withCondition = (name: string, config: Record<string, unknown>) =>
      team('autogen_agentchat.teams.RoundRobinGroupChat', [assistant({})], {
        termination_condition: {
          provider: 'autogen_agentchat.base.OrTerminationCondition',
          config: {
            conditions: [
              { provider: 'autogen_agentchat.conditions.TextMentionTermination', config: { text: 'X' } },
              { provider: `autogen_agentchat.conditions.${name}`, config },
            ],
          },
        },
      });
    const at = '$.config.termination_condition.config.conditions[1].config.include_agent_event';
    for (const name of ['MaxMessageTermination', 'StopMessageTermination'])
      expect(rejection(withCondition(name, { max_messages: 4, include_agent_event: true })).issues).toEqual([
        {
          path: at,
          provider: `autogen_agentchat.conditions.${name}`,
          message:
            'include_agent_event: true is not supported (only chat messages are counted); remove it or set it to false',
        },
      ]);
    const spec = importAutogenComponent(
      withCondition('MaxMessageTermination', { max_messages: 4, include_agent_event: false }),
      options,
    );
    expect(spec.termination).toEqual({
      kind: 'any_of',
      conditions: [
        { kind: 'text_mention', text: 'X' },
        { kind: 'max_messages', limit: 4 },
      ],
    });
  });

  const magentic = (participants: unknown[], modelConfig: Record<string, unknown> = {}) =>
    team('autogen_agentchat.teams.MagenticOneGroupChat', participants, {
      model_client: {
        provider: 'autogen_ext.models.openai.OpenAIChatCompletionClient',
        config: { model: 'gpt-4o', ...modelConfig },
      },
      termination_condition: {
        provider: 'autogen_agentchat.conditions.MaxMessageTermination',
        config: { max_messages: 30 },
      },
      max_turns: 7,
      max_stalls: 2,
      final_answer_prompt: 'Answer {task} now.',
      emit_team_events: false,
    });

  it('imports a MagenticOneGroupChat whose participants can run, and runs it', async () => {
    const json = magentic([assistant({ name: 'coder' }), assistant({ name: 'checker' })]);
    const spec = importAutogenComponent(json, options);
    expect(spec).toMatchObject({
      type: 'magentic_one',
      maxTurns: 7,
      termination: { kind: 'max_messages', limit: 30 },
      magenticOne: {
        model: { model: 'gpt-4o' },
        maxStalls: 2,
        finalAnswerPrompt: 'Answer {task} now.',
        maxJsonRetries: 10,
      },
    });
    expect(spec.agents.map((a) => a.name)).toEqual(['coder', 'checker']);
    // the orchestrator's model is bound to an operator endpoint like every other model
    const refusedUrl = magentic([assistant({ name: 'coder' })], { base_url: 'http://elsewhere/v1' });
    expect(rejection(refusedUrl).issues.map((i) => i.path)).toEqual([
      '$.config.model_client.config.base_url',
    ]);
    const result = await runTeam(json, 'Say hi', { model: createScriptedModelClient() });
    expect(result.state.status).toBe('idle');
    expect(result.messages.at(-1)?.source).toBe('MagenticOneOrchestrator');
  });

  it('rejects a MagenticOneGroupChat whose participant cannot run, naming its path', () => {
    const surfer = {
      provider: 'autogen_ext.agents.web_surfer.MultimodalWebSurfer',
      component_type: 'agent',
      config: { name: 'surfer' },
    };
    expect(rejection(magentic([assistant({ name: 'coder' }), surfer])).issues).toEqual([
      {
        path: '$.config.participants[1]',
        provider: 'autogen_ext.agents.web_surfer.MultimodalWebSurfer',
        message: 'this agent type cannot run here (only AssistantAgent and UserProxyAgent)',
      },
    ]);
  });
});

function readdir(): string[] {
  return readdirSync(fixtures)
    .filter((f) => f.endsWith('.json.txt'))
    .map((f) => f.slice(0, -'.txt'.length))
    .sort();
}
