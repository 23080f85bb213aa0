import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUILTIN_TOOL_NAMES, createScriptedModelClient, importAutogenComponent } from '@agentledger/agents';
import { runTeam } from './team-session.ts';

/** The shared AutoGen fixtures kept in libs/agents (their import is tested there). */
const fixtures = fileURLToPath(new URL('../../../agents/fixtures/autogen/', import.meta.url));
const load = (name: string): unknown => JSON.parse(readFileSync(`${fixtures}${name}.txt`, 'utf8'));
const options = { toolNames: [...BUILTIN_TOOL_NAMES] };

const RUNS = [
  'docs-usage-weather-team.json',
  'notebooks-team.json',
  'serialize-components-agent-assistant-handoffs.json',
  'team-roundrobin-team.json',
  'travel-team.json',
] as const;

describe('runTeam on AutoGen components', () => {
  it.each(RUNS)('%s imports and runs with the scripted client', async (name) => {
    // runTeam takes the AutoGen JSON as is (it imports it with the built-in tools bound by name)
    const result = await runTeam(load(name), 'What is 6 * 7?', { model: createScriptedModelClient() });
    expect(result.state.status).toMatch(/^(idle|awaiting_input)$/);
    expect(result.state.lastTurn?.outcome).toBe('completed');
    expect(result.messages.filter((m) => m.role === 'assistant').length).toBeGreaterThan(0);
  });

  it('an agent handing off to the user pauses the session', async () => {
    const spec = importAutogenComponent(load('serialize-components-agent-assistant-handoffs.json'), options);
    const model = createScriptedModelClient({
      script: [{ toolCalls: [{ name: 'transfer_to_user', arguments: '{}' }] }],
    });
    const result = await runTeam(spec, 'refund my flight', { model });
    expect(result.state.status).toBe('awaiting_input');
    expect(result.messages.at(-1)).toMatchObject({ messageType: 'handoff', target: 'user' });
  });

  it('never keeps a component api_key in the events of a run', async () => {
    const secret = 'sk-tenant-secret-123';
    const plain = {
      provider: 'autogen_agentchat.teams.RoundRobinGroupChat',
      component_type: 'team',
      config: {
        participants: [
          {
            provider: 'autogen_agentchat.agents.AssistantAgent',
            component_type: 'agent',
            config: {
              name: 'a',
              model_client: {
                provider: 'autogen_ext.models.openai.OpenAIChatCompletionClient',
                config: { model: 'm', api_key: secret },
              },
            },
          },
        ],
        termination_condition: {
          provider: 'autogen_agentchat.conditions.MaxMessageTermination',
          component_type: 'termination',
          config: { max_messages: 3 },
        },
      },
    };
    const run = await runTeam(plain, 'hi', { model: createScriptedModelClient() });
    expect(run.state.lastTurn?.outcome).toBe('completed');
    expect(JSON.stringify(run.events)).not.toContain(secret);
  });
});
