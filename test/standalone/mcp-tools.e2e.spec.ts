import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DESK_MCP_SERVER_PATH,
  startFakeOpenAIServer,
  startRatesMcpServer,
  type FakeOpenAIServer,
  type RatesMcpServer,
} from '@agentledger/agents/testing';
import { eventually } from '@agentledger/testing';
import { startStandalone, type StandaloneProcess } from '../support/standalone-process.ts';

type Body = {
  messages: { role: string; content?: string | null }[];
  tools?: { function: { name: string; parameters: Record<string, unknown> } }[];
};

// Issue 15 item 4 on `npm start`: the operator registers a stdio MCP server and a Streamable HTTP one
// (its bearer token from an env var); a team names them, its model sees their tools' JSON schemas,
// calls them, and the session replays. Specs carrying a command or an unregistered URL are refused.
describe('embedded mode: MCP tools from operator-registered servers', () => {
  let app: StandaloneProcess | undefined;
  let url: string;
  let headers: Record<string, string>;
  let fake: FakeOpenAIServer;
  let rates: RatesMcpServer;

  beforeAll(async () => {
    fake = await startFakeOpenAIServer();
    fake.setFallback((raw) => {
      const body = raw as Body;
      const last = body.messages.at(-1);
      if (last?.role === 'tool') return { kind: 'message', content: 'All done. TERMINATE' };
      if (last?.content === 'Take a nap')
        return { kind: 'message', toolCalls: [{ name: 'nap', arguments: '{}' }] };
      return {
        kind: 'message',
        toolCalls: [
          { name: 'lookup_order', arguments: '{"orderId":"A1"}' },
          { name: 'add_note', arguments: '{"orderId":"A1","note":"checked"}' },
          { name: 'convert', arguments: '{"amount":10,"from":"EUR","to":"USD"}' },
        ],
      };
    });
    rates = await startRatesMcpServer('rates-operator-token');
    app = await startStandalone(280_000, {
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test-key-not-secret',
      DESK_SECRET: 'desk-operator-token',
      RATES_SECRET: 'rates-operator-token',
      AGENTLEDGER_MCP_SERVERS: JSON.stringify({
        desk: {
          command: process.execPath,
          args: [DESK_MCP_SERVER_PATH],
          env: { DESK_TOKEN: { env: 'DESK_SECRET' } },
        },
        rates: { url: rates.url, headers: { Authorization: { env: 'RATES_SECRET', prefix: 'Bearer ' } } },
      }),
    });
    url = app.url;
    const key = app.apiKey;
    headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  }, 300_000);

  afterAll(async () => {
    // The process exits before its data directory is removed (PGlite writes until it has).
    await app?.stop();
    await fake?.close();
    await rates?.close();
  });

  const put = (teamId: string, spec: unknown) =>
    fetch(`${url}/v1/teams/${teamId}`, { method: 'PUT', headers, body: JSON.stringify(spec) });
  const team = (mcp: unknown[]) => ({
    specVersion: 1,
    name: 'desk-team',
    type: 'single',
    agents: [{ name: 'clerk', model: { provider: 'openai', model: 'fake-model', maxRetries: 0 }, mcp }],
    termination: { kind: 'text_mention', text: 'TERMINATE' },
  });
  const refusedFields = async (response: Response): Promise<string[]> => {
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    return ((await response.json()) as { errors: { field: string }[] }).errors.map((e) => e.field);
  };

  it('refuses a spec carrying a command or an unregistered URL, naming the field', async () => {
    expect(
      await refusedFields(await put('sneaky', team([{ server: 'desk', command: 'sh', args: ['-c', 'id'] }]))),
    ).toEqual(['agents.0.mcp.0.command', 'agents.0.mcp.0.args']);
    expect(await refusedFields(await put('elsewhere', team([{ url: 'http://127.0.0.1:9/mcp' }])))).toEqual([
      'agents.0.mcp.0.url',
    ]);
    expect(await refusedFields(await put('nope', team([{ server: 'desk', tools: ['rm_rf'] }])))).toEqual([
      'agents.0.mcp.0.tools.0',
    ]);
  });

  it('imports an AutoGen McpWorkbench registered by URL, and rejects one that is not, naming the path', async () => {
    const assistant = (serverUrl: string) => ({
      provider: 'autogen_agentchat.agents.AssistantAgent',
      component_type: 'agent',
      config: {
        name: 'a',
        model_client: {
          provider: 'autogen_ext.models.openai.OpenAIChatCompletionClient',
          config: { model: 'gpt-4o-mini' },
        },
        workbench: [
          {
            provider: 'autogen_ext.tools.mcp.McpWorkbench',
            component_type: 'workbench',
            label: 'McpWorkbench',
            config: {
              server_params: { type: 'StreamableHttpServerParams', url: serverUrl, headers: null },
              tool_overrides: {},
            },
          },
        ],
      },
    });
    expect((await put('autogen-mcp', assistant(rates.url))).status).toBeLessThan(300);
    const got = (await (await fetch(`${url}/v1/teams/autogen-mcp`, { headers })).json()) as {
      spec: { agents: unknown[] };
    };
    expect(got.spec.agents[0]).toMatchObject({
      mcp: [{ server: 'rates' }],
      mcpTools: [{ name: 'convert', idempotent: true }],
    });
    expect(await refusedFields(await put('autogen-elsewhere', assistant('http://127.0.0.1:9/mcp')))).toEqual([
      'config.workbench.0.config.server_params.url',
    ]);
  });

  it('runs a team using tools of the stdio and the HTTP server end to end, and the session replays', async () => {
    const response = await put(
      'desk',
      team([{ server: 'desk', tools: ['lookup_order', 'add_note'] }, { server: 'rates' }]),
    );
    expect(response.status).toBeLessThan(300);
    const created = await fetch(`${url}/v1/sessions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ teamId: 'desk' }),
    });
    const { sessionId } = (await created.json()) as { sessionId: string };
    await fetch(`${url}/v1/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ content: 'Where is order A1, in USD?' }),
    });
    const events = await eventually(
      'the turn to complete',
      async () => {
        const page = await fetch(`${url}/v1/sessions/${sessionId}/events`, { headers });
        const body = (await page.json()) as { events: { type: string; data: Record<string, unknown> }[] };
        return body.events.some((e) => e.type === 'TurnCompleted') ? body.events : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const results = events
      .filter((e) => e.type === 'ToolCallCompleted' || e.type === 'ToolCallFailed')
      .map((e) => e.data['result'] ?? `${String(e.data['reason'])}: ${String(e.data['message'])}`);
    expect(results).toEqual([
      'order A1: shipped',
      `noted on A1: checked (key dev/${sessionId}:t1.s1.m1.t1)`,
      '10 EUR = 20.00 USD',
    ]);
    const first = fake.requests.find((r) =>
      (r.body as Body).messages.some((m) => m.content === 'Where is order A1, in USD?'),
    );
    const offered = (first!.body as Body).tools!.map((t) => t.function);
    expect(offered.map((t) => t.name)).toEqual(['lookup_order', 'add_note', 'convert']);
    expect(offered[0]!.parameters).toMatchObject({ properties: { orderId: { type: 'string' } } });
    expect(rates.authorizations.every((a) => a === 'Bearer rates-operator-token')).toBe(true);
    const audit = (await (await fetch(`${url}/v1/sessions/${sessionId}/audit`, { headers })).json()) as {
      replayMatches: boolean;
      hashChainValid: boolean;
    };
    expect(audit).toMatchObject({ replayMatches: true, hashChainValid: true });
  });

  it('cancel during an MCP tool call aborts it on the embedded orchestrator; a non-idempotent tool is unknown-outcome', async () => {
    expect((await put('napper', team([{ server: 'desk', tools: ['nap'] }]))).status).toBeLessThan(300);
    const created = await fetch(`${url}/v1/sessions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ teamId: 'napper' }),
    });
    const { sessionId } = (await created.json()) as { sessionId: string };
    const eventsNow = async () => {
      const page = await fetch(`${url}/v1/sessions/${sessionId}/events`, { headers });
      return ((await page.json()) as { events: { type: string; data: Record<string, unknown> }[] }).events;
    };
    await fetch(`${url}/v1/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ content: 'Take a nap' }),
    });
    await eventually('the nap to be requested', async () =>
      (await eventsNow()).some((e) => e.type === 'ToolCallRequested') ? true : undefined,
    );
    const cancelled = await fetch(`${url}/v1/sessions/${sessionId}/cancel`, {
      method: 'POST',
      headers,
      body: '{}',
    });
    expect(cancelled.status).toBeLessThan(300);
    // The nap runs 60 s unless aborted: its outcome recorded well before proves the abort.
    const failed = await eventually(
      'the aborted nap to be recorded',
      async () => (await eventsNow()).find((e) => e.type === 'ToolCallFailed'),
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(failed.data).toMatchObject({ toolCallId: 't1.s1.m1.t0', reason: 'unknown-outcome' });
    const types = (await eventsNow()).map((e) => e.type);
    expect(types.indexOf('TurnCancelled')).toBeLessThan(types.indexOf('ToolCallFailed'));
    const audit = (await (await fetch(`${url}/v1/sessions/${sessionId}/audit`, { headers })).json()) as {
      replayMatches: boolean;
    };
    expect(audit.replayMatches).toBe(true);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/agentledger_calls_aborted_total\{kind="tool"\} [1-9]/);
  });
});
