import { describe, expect, it } from 'vitest';
import { parseMcpServers } from '../spec/mcp-servers.ts';
import { ImportContext, type AutogenImportOptions } from './import-context.ts';
import { importAgent } from './import-agent.ts';

const ASSISTANT = 'autogen_agentchat.agents.AssistantAgent';
const mcpServers = parseMcpServers(
  {
    AGENTLEDGER_MCP_SERVERS: JSON.stringify({
      desk: { command: 'node', args: ['desk.ts', '1'] },
      rates: { url: 'http://rates/mcp' },
    }),
  },
  () => '',
);
/** The imported agent and the issues the import collected. */
const imported = (
  provider: string,
  config: Record<string, unknown>,
  options: Partial<AutogenImportOptions> = {},
) => {
  const ctx = new ImportContext({ toolNames: ['calculator', 'clock'], ...options });
  return { agent: importAgent(ctx, { provider, config }, '$.a'), issues: ctx.issues };
};
const assistant = (config: Record<string, unknown>, options: Partial<AutogenImportOptions> = {}) =>
  imported(ASSISTANT, { name: 'helper', ...config }, options);
const issue = (path: string, provider: string, message: string) => ({ path, provider, message });
const tool = (name: unknown, cls = 'FunctionTool') => ({
  provider: `autogen_core.tools.${cls}`,
  config: name === undefined ? {} : { name },
});

describe('importAgent', () => {
  it('maps a user proxy, its description only when it has one', () => {
    expect(
      imported('autogen_agentchat.agents.UserProxyAgent', { name: 'human', description: 'The customer' }),
    ).toStrictEqual({
      agent: { kind: 'user_proxy', name: 'human', description: 'The customer' },
      issues: [],
    });
    expect(imported('autogen_agentchat.agents.UserProxyAgent', { name: 'human' }).agent).toStrictEqual({
      kind: 'user_proxy',
      name: 'human',
    });
  });

  it('requires a name of either agent, at its path', () => {
    for (const provider of ['autogen_agentchat.agents.UserProxyAgent', ASSISTANT])
      expect(imported(provider, { name: 42 })).toStrictEqual({
        agent: undefined,
        issues: [issue('$.a.config.name', provider, 'an agent needs a name')],
      });
  });

  it('rejects any other agent type, and an assistant outside AutoGen', () => {
    for (const provider of ['autogen_ext.agents.web_surfer.MultimodalWebSurfer', 'mine.AssistantAgent'])
      expect(imported(provider, { name: 'x' }).issues).toStrictEqual([
        issue('$.a', provider, 'this agent type cannot run here (only AssistantAgent and UserProxyAgent)'),
      ]);
  });

  it('a bare assistant: no model, tools, handoffs or MCP; no reflection', () => {
    expect(assistant({})).toStrictEqual({
      agent: { kind: 'assistant', name: 'helper', tools: [], handoffs: [], reflectOnToolUse: false },
      issues: [],
    });
  });

  it('maps its settings, parallel tool calls from its model client', () => {
    expect(
      assistant({
        description: 'Helps',
        system_message: 'Be brief.',
        model_client: {
          provider: 'autogen_ext.models.openai.OpenAIChatCompletionClient',
          config: { model: 'm', parallel_tool_calls: false },
        },
        reflect_on_tool_use: true,
        max_tool_iterations: 3,
        tool_call_summary_format: '{tool_name}: {result}',
        model_context: { provider: 'autogen_core.model_context.UnboundedChatCompletionContext', config: {} },
        memory: [],
        output_content_type: null,
      }),
    ).toStrictEqual({
      agent: {
        kind: 'assistant',
        name: 'helper',
        description: 'Helps',
        systemMessage: 'Be brief.',
        model: { provider: 'openai', model: 'm' },
        tools: [],
        handoffs: [],
        parallelToolCalls: false,
        reflectOnToolUse: true,
        maxToolIterations: 3,
        toolCallSummaryFormat: '{tool_name}: {result}',
      },
      issues: [],
    });
    expect(assistant({ reflect_on_tool_use: 'yes' }).agent).toMatchObject({ reflectOnToolUse: false });
  });

  it('rejects memory, structured output and a message factory, naming each', () => {
    expect(
      assistant({ memory: [{}], output_content_type: 'X', structured_message_factory: {} }).issues,
    ).toStrictEqual([
      issue('$.a.config.memory', ASSISTANT, 'memory is not supported'),
      issue('$.a.config.output_content_type', ASSISTANT, 'output_content_type is not supported'),
      issue(
        '$.a.config.structured_message_factory',
        ASSISTANT,
        'structured_message_factory is not supported',
      ),
    ]);
  });

  it('takes a model context only with its sizes', () => {
    const ctx = (cls: string, config: Record<string, unknown>) => ({
      provider: `autogen_core.model_context.${cls}`,
      config,
    });
    const message = 'only Unbounded, Buffered and HeadAndTail chat completion contexts are supported';
    for (const c of [
      ctx('BufferedChatCompletionContext', {}),
      ctx('HeadAndTailChatCompletionContext', { head_size: 1 }),
      ctx('HeadAndTailChatCompletionContext', { tail_size: 1 }),
    ])
      expect(assistant({ model_context: c }).issues).toStrictEqual([
        issue('$.a.config.model_context', c.provider, message),
      ]);
    expect(assistant({ model_context: 'last 5' }).issues).toStrictEqual([
      issue(
        '$.a.config.model_context',
        '(none)',
        'expected an AutoGen component with "provider" and "config"',
      ),
    ]);
    expect(assistant({ model_context: null })).toMatchObject({ issues: [] });
  });

  it('reads each size only on its own context: a buffer size or head and tail sizes elsewhere are refused', () => {
    const ctx = (cls: string, config: Record<string, unknown>) => ({
      provider: `autogen_core.model_context.${cls}`,
      config,
    });
    const message = 'only Unbounded, Buffered and HeadAndTail chat completion contexts are supported';
    for (const c of [
      ctx('TokenLimitedChatCompletionContext', { buffer_size: 5 }),
      ctx('TokenLimitedChatCompletionContext', { head_size: 1, tail_size: 4 }),
      ctx('BufferedChatCompletionContext', { head_size: 1, tail_size: 4 }),
      ctx('HeadAndTailChatCompletionContext', { buffer_size: 5 }),
    ])
      expect(assistant({ model_context: c }).issues).toStrictEqual([
        issue('$.a.config.model_context', c.provider, message),
      ]);
  });

  it('binds FunctionTools by name to registered tools, naming each one it cannot', () => {
    expect(assistant({ tools: [tool('calculator'), tool('clock')] }).agent).toMatchObject({
      tools: ['calculator', 'clock'],
    });
    expect(assistant({ tools: null }).agent).toMatchObject({ tools: [] });
    expect(assistant({ tools: 'calculator' }).issues).toStrictEqual([
      issue('$.a.config.tools', '(none)', 'tools must be a list'),
    ]);
    expect(
      assistant({
        tools: [tool('calculator'), tool(1), tool('shell'), tool('x', 'PythonCodeExecutionTool')],
      }),
    ).toStrictEqual({
      agent: expect.objectContaining({ tools: ['calculator'] }) as unknown,
      issues: [
        issue(
          '$.a.config.tools[1].config.name',
          'autogen_core.tools.FunctionTool',
          'a FunctionTool needs a name',
        ),
        issue(
          '$.a.config.tools[2]',
          'autogen_core.tools.FunctionTool',
          'FunctionTool "shell" is Python source that cannot run here, and no tool named "shell" is registered',
        ),
        issue(
          '$.a.config.tools[3]',
          'autogen_core.tools.PythonCodeExecutionTool',
          'this tool type cannot run here; register a tool and use a FunctionTool with its name',
        ),
      ],
    });
  });

  it('takes the tools of static workbenches, one or a list, and rejects other workbenches', () => {
    const bench = (cls: string, config: Record<string, unknown>) => ({
      provider: `autogen_core.tools.${cls}`,
      config,
    });
    expect(
      assistant({
        workbench: bench('StaticWorkbench', { tools: [tool('calculator')] }),
        tools: [tool('clock')],
      }).agent,
    ).toMatchObject({ tools: ['clock', 'calculator'] });
    expect(
      assistant({
        workbench: [bench('StaticStreamWorkbench', { tools: [tool('shell')] }), bench('Other', {})],
      }).issues,
    ).toStrictEqual([
      issue(
        '$.a.config.workbench[0].config.tools[0]',
        'autogen_core.tools.FunctionTool',
        'FunctionTool "shell" is Python source that cannot run here, and no tool named "shell" is registered',
      ),
      issue(
        '$.a.config.workbench[1]',
        'autogen_core.tools.Other',
        'only static and MCP workbenches are supported',
      ),
    ]);
    expect(assistant({ workbench: bench('Other', {}) }).issues.map((i) => i.path)).toEqual([
      '$.a.config.workbench',
    ]);
  });

  it('an MCP workbench names a registered server by label, URL or command with the same args', () => {
    const mcp = (label: string | undefined, server_params: unknown) => ({
      provider: 'autogen_ext.tools.mcp.McpWorkbench',
      ...(label === undefined ? {} : { label }),
      config: { server_params },
    });
    const agent = assistant(
      {
        workbench: [
          mcp('rates', {}),
          mcp(undefined, { url: 'http://rates/mcp/' }),
          mcp('x', { command: 'node', args: ['desk.ts', 1] }),
        ],
      },
      { mcpServers },
    );
    expect(agent).toMatchObject({
      agent: { mcp: [{ server: 'rates' }, { server: 'rates' }, { server: 'desk' }] },
      issues: [],
    });
    const P = 'autogen_ext.tools.mcp.McpWorkbench';
    expect(
      assistant(
        {
          workbench: [
            mcp(undefined, { command: 'node', args: 'desk.ts 1' }),
            mcp(undefined, 'stdio'),
            mcp('rates', { url: 'http://rates/mcp' }),
          ],
        },
        {},
      ).issues,
    ).toStrictEqual([
      issue(
        '$.a.config.workbench[0].config.server_params.command',
        P,
        'not the command of a registered MCP server',
      ),
      issue('$.a.config.workbench[1].config.server_params', P, 'an McpWorkbench needs server_params'),
      issue('$.a.config.workbench[2].config.server_params.url', P, 'not the URL of a registered MCP server'),
    ]);
    expect(
      assistant({ workbench: [mcp(undefined, { url: 'http://rates/mcp' })] }, { mcpServers }).agent,
    ).not.toHaveProperty('tools.0');
  });

  it('maps handoffs: a target name, or an object whose text fields it keeps', () => {
    expect(
      assistant({
        handoffs: [
          'b',
          { target: 'c', name: 'to_c', description: 'Go to c', message: 'Bye', extra: 1 },
          { target: 'd', name: 7 },
        ],
      }).agent,
    ).toMatchObject({
      handoffs: ['b', { target: 'c', name: 'to_c', description: 'Go to c', message: 'Bye' }, { target: 'd' }],
    });
    const handoffs = (assistant({ handoffs: [{ target: 'd', name: 7 }] }).agent as { handoffs: unknown[] })
      .handoffs;
    expect(handoffs).toStrictEqual([{ target: 'd' }]);
    expect(assistant({ handoffs: 'b' }).issues).toStrictEqual([
      issue('$.a.config.handoffs', ASSISTANT, 'handoffs must be a list'),
    ]);
    expect(assistant({ handoffs: ['b', { name: 'x' }] }).issues).toStrictEqual([
      issue('$.a.config.handoffs[1]', ASSISTANT, 'a handoff is a target name or an object with "target"'),
    ]);
  });
});

describe('importAgent, what it keeps of a refused or absent setting', () => {
  const bare = { kind: 'assistant', name: 'helper', tools: [], handoffs: [], reflectOnToolUse: false };

  it('takes tools, a workbench and handoffs given as null as none, without an issue', () => {
    expect(assistant({ tools: null, workbench: null, handoffs: null })).toStrictEqual({
      agent: bare,
      issues: [],
    });
  });

  it('keeps no tool or handoff in place of tools and handoffs that are not lists', () => {
    expect(assistant({ tools: 'calculator', handoffs: 'b' })).toStrictEqual({
      agent: bare,
      issues: [
        issue('$.a.config.tools', '(none)', 'tools must be a list'),
        issue('$.a.config.handoffs', ASSISTANT, 'handoffs must be a list'),
      ],
    });
  });

  it('keeps no tool or handoff in place of a list item it refuses', () => {
    expect(assistant({ tools: [42], handoffs: [{ name: 'x' }] })).toStrictEqual({
      agent: bare,
      issues: [
        issue('$.a.config.tools[0]', '(none)', 'expected an AutoGen component with "provider" and "config"'),
        issue('$.a.config.handoffs[0]', ASSISTANT, 'a handoff is a target name or an object with "target"'),
      ],
    });
  });

  it('keeps no MCP server in place of an MCP workbench it refuses', () => {
    expect(
      assistant(
        {
          workbench: {
            provider: 'autogen_ext.tools.mcp.McpWorkbench',
            config: { server_params: { url: 'http://elsewhere/mcp' } },
          },
        },
        { mcpServers },
      ),
    ).toStrictEqual({
      agent: bare,
      issues: [
        issue(
          '$.a.config.workbench.config.server_params.url',
          'autogen_ext.tools.mcp.McpWorkbench',
          'not the URL of a registered MCP server',
        ),
      ],
    });
  });

  it('an MCP workbench whose command has no args names the server registered with none', () => {
    const servers = parseMcpServers(
      { AGENTLEDGER_MCP_SERVERS: JSON.stringify({ clock: { command: 'clock-server' } }) },
      () => '',
    );
    expect(
      assistant(
        {
          workbench: {
            provider: 'autogen_ext.tools.mcp.McpWorkbench',
            config: { server_params: { command: 'clock-server' } },
          },
        },
        { mcpServers: servers },
      ),
    ).toStrictEqual({ agent: { ...bare, mcp: [{ server: 'clock' }] }, issues: [] });
  });
});
