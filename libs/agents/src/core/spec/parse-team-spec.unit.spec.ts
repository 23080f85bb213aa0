import { describe, expect, it } from 'vitest';
import { caught } from '@agentledger/testing';
import { UnsupportedComponent } from '../autogen/autogen-import.ts';
import { InvalidTeamSpec, parseTeamSpec, unknownToolNames } from './parse-team-spec.ts';

const toolNames = ['calculator'];
const assistant = (name: string) => ({
  provider: 'autogen_agentchat.agents.AssistantAgent',
  component_type: 'agent',
  config: {
    name,
    model_client: {
      provider: 'autogen_ext.models.openai.OpenAIChatCompletionClient',
      config: { model: 'm' },
    },
  },
});
const roundRobin = {
  provider: 'autogen_agentchat.teams.RoundRobinGroupChat',
  component_type: 'team',
  label: 'pair',
  config: { participants: [assistant('a'), assistant('b')] },
};

describe('parseTeamSpec', () => {
  it('imports an AutoGen component rather than reading it as our spec', () => {
    expect(parseTeamSpec(roundRobin, { toolNames })).toMatchObject({
      specVersion: 1,
      name: 'pair',
      type: 'round_robin',
      agents: [
        { kind: 'assistant', name: 'a' },
        { kind: 'assistant', name: 'b' },
      ],
    });
  });

  it('refuses an AutoGen Studio gallery as the importer does, not as an invalid spec', () => {
    const error = caught(() => parseTeamSpec({ items: { teams: [roundRobin] } }, { toolNames }));
    expect(error).toBeInstanceOf(UnsupportedComponent);
    expect(error).not.toBeInstanceOf(InvalidTeamSpec);
    expect((error as UnsupportedComponent).issues).toStrictEqual([
      {
        path: '$',
        provider: '(gallery)',
        message: 'this is an AutoGen Studio gallery, not a component; import one of $.items.teams[i]',
      },
    ]);
  });
});

describe('unknownToolNames', () => {
  it('names each tool of an assistant the registry lacks, in order; a user proxy has none', () => {
    const spec = parseTeamSpec(
      {
        specVersion: 1,
        name: 'team',
        type: 'round_robin',
        agents: [
          { name: 'a', tools: ['ghost', 'calculator', 'clock'] },
          { kind: 'user_proxy', name: 'human' },
          { name: 'b', tools: ['calculator'] },
        ],
      },
      { toolNames },
    );
    expect(unknownToolNames(spec, toolNames)).toStrictEqual(['ghost', 'clock']);
    expect(unknownToolNames(spec, ['ghost', 'calculator', 'clock'])).toStrictEqual([]);
  });
});
