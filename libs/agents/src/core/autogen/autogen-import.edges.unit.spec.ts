import { describe, expect, it } from 'vitest';
import { caught } from '@agentledger/testing';
import { DEFAULT_FINAL_ANSWER_PROMPT, DEFAULT_SELECTOR_PROMPT } from '../spec/team-spec.ts';
import {
  importAutogenComponent,
  importAutogenGallery,
  isAutogenComponent,
  UnsupportedComponent,
} from './autogen-import.ts';

const options = { toolNames: [] };
const model = (config: Record<string, unknown> = {}) => ({
  provider: 'autogen_ext.models.openai.OpenAIChatCompletionClient',
  config: { model: 'm', ...config },
});
const assistant = (name: string) => ({
  provider: 'autogen_agentchat.agents.AssistantAgent',
  component_type: 'agent',
  config: { name, model_client: model() },
});
const team = (cls: string, config: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  provider: `autogen_agentchat.teams.${cls}`,
  component_type: 'team',
  config: { participants: [assistant('a'), assistant('b')], ...config },
  ...extra,
});
const issuesOf = (json: unknown): UnsupportedComponent['issues'] => {
  const error = caught(() => importAutogenComponent(json, options));
  expect(error).toBeInstanceOf(UnsupportedComponent);
  return (error as UnsupportedComponent).issues;
};

describe('importAutogenComponent, the team settings', () => {
  it('maps SelectorGroupChat settings one to one, its model client included', () => {
    const spec = importAutogenComponent(
      team('SelectorGroupChat', {
        model_client: model({ model: 'selector-model' }),
        selector_prompt: 'Pick from {participants}.',
        allow_repeated_speaker: true,
        max_selector_attempts: 5,
      }),
      options,
    );
    expect(spec.selector).toStrictEqual({
      model: { provider: 'openai', model: 'selector-model' },
      prompt: 'Pick from {participants}.',
      allowRepeatedSpeaker: true,
      maxSelectorAttempts: 5,
    });
  });

  it('a SelectorGroupChat without settings gets our defaults, and no model of its own', () => {
    expect(importAutogenComponent(team('SelectorGroupChat'), options).selector).toStrictEqual({
      prompt: DEFAULT_SELECTOR_PROMPT,
      allowRepeatedSpeaker: false,
      maxSelectorAttempts: 3,
    });
  });

  it('a MagenticOneGroupChat without settings gets our defaults, and no model of its own', () => {
    expect(importAutogenComponent(team('MagenticOneGroupChat'), options).magenticOne).toStrictEqual({
      maxStalls: 3,
      finalAnswerPrompt: DEFAULT_FINAL_ANSWER_PROMPT,
      maxJsonRetries: 10,
    });
  });

  it('a round robin team has no selector or orchestrator settings, and its model_client is not read', () => {
    const spec = importAutogenComponent(
      team('RoundRobinGroupChat', {
        model_client: { provider: 'autogen_ext.models.anthropic.AnthropicChatCompletionClient', config: {} },
      }),
      options,
    );
    expect(spec.type).toBe('round_robin');
    expect(spec.selector).toBeUndefined();
    expect(spec.magenticOne).toBeUndefined();
    // no key at all for what the component does not set (not a key holding `undefined`)
    expect(Object.keys(spec).sort()).toStrictEqual([
      'agents',
      'limits',
      'name',
      'onBusy',
      'specVersion',
      'type',
    ]);
  });

  it('names the team after its label, trimmed and cut at 128 characters, else after its type; keeps its description and max_turns', () => {
    const spec = importAutogenComponent(
      team('RoundRobinGroupChat', { max_turns: 4 }, { label: '  Team A  ', description: 'two agents' }),
      options,
    );
    expect([spec.name, spec.description, spec.maxTurns]).toStrictEqual(['Team A', 'two agents', 4]);
    const long = `${'x'.repeat(130)}`;
    expect(importAutogenComponent(team('Swarm', {}, { label: long }), options).name).toBe('x'.repeat(128));
    expect(importAutogenComponent(team('Swarm', {}, { label: '   ' }), options).name).toBe('swarm');
    expect(importAutogenComponent(team('SelectorGroupChat'), options).name).toBe('selector');
  });

  it('an agent alone becomes a single team named after it, with or without component_type', () => {
    const { component_type: _type, ...untyped } = assistant('solo');
    for (const json of [assistant('solo'), untyped]) {
      const spec = importAutogenComponent(json, options);
      expect([spec.type, spec.name, spec.agents.map((a) => a.name)]).toStrictEqual([
        'single',
        'solo',
        ['solo'],
      ]);
    }
  });

  it('an agent component of an unknown class is refused as an agent, not as a team', () => {
    expect(
      issuesOf({ provider: 'my_lib.agents.PlannerAgent', component_type: 'agent', config: { name: 'p' } }),
    ).toStrictEqual([
      {
        path: '$',
        provider: 'my_lib.agents.PlannerAgent',
        message: 'this agent type cannot run here (only AssistantAgent and UserProxyAgent)',
      },
    ]);
  });

  it('refuses a Python candidate_func and a team without participants; a null selector_func is fine', () => {
    expect(
      issuesOf(team('SelectorGroupChat', { participants: [], candidate_func: 'def f(m): ...' })),
    ).toStrictEqual([
      {
        path: '$.config.candidate_func',
        provider: 'autogen_agentchat.teams.SelectorGroupChat',
        message: 'candidate_func is Python code and cannot run here',
      },
      {
        path: '$.config.participants',
        provider: 'autogen_agentchat.teams.SelectorGroupChat',
        message: 'a team needs participants',
      },
    ]);
    expect(importAutogenComponent(team('SelectorGroupChat', { selector_func: null }), options).type).toBe(
      'selector',
    );
  });

  it('a translation our schema refuses names the field and the component', () => {
    expect(
      issuesOf(team('RoundRobinGroupChat', { participants: [assistant('a'), assistant('a')] })),
    ).toStrictEqual([
      {
        path: '$',
        provider: 'autogen_agentchat.teams.RoundRobinGroupChat',
        message: 'translated spec is invalid at agents.1.name: duplicate agent name "a"',
      },
    ]);
  });
});

describe('importAutogenGallery, the edges', () => {
  it('labels a team by its provider when it has no label, and by its path when it is no component', () => {
    const gallery = { items: { teams: [team('RoundRobinGroupChat'), 42] } };
    const results = importAutogenGallery(gallery, options);
    expect(results.map((r) => [r.path, r.label, r.result.ok])).toStrictEqual([
      ['$.items.teams[0]', 'autogen_agentchat.teams.RoundRobinGroupChat', true],
      ['$.items.teams[1]', '$.items.teams[1]', false],
    ]);
    const rejected = results[1]!.result;
    expect(rejected.ok ? [] : rejected.error.issues).toStrictEqual([
      {
        path: '$.items.teams[1]',
        provider: '(none)',
        message: 'expected an AutoGen component with "provider" and "config"',
      },
    ]);
  });

  it('refuses what is not a gallery, and lets an error other than a refusal through', () => {
    expect(
      (caught(() => importAutogenGallery(team('Swarm'), options)) as UnsupportedComponent).issues,
    ).toStrictEqual([{ path: '$', provider: '(none)', message: 'not an AutoGen Studio gallery' }]);
    const broken = {
      provider: 'autogen_agentchat.teams.RoundRobinGroupChat',
      config: {
        get participants(): never {
          throw new TypeError('broken getter');
        },
      },
    };
    expect(() => importAutogenGallery({ items: { teams: [broken] } }, options)).toThrow(
      new TypeError('broken getter'),
    );
  });

  it('a gallery given as a component is refused, naming where its teams are', () => {
    expect(issuesOf({ items: { teams: [] } })).toStrictEqual([
      {
        path: '$',
        provider: '(gallery)',
        message: 'this is an AutoGen Studio gallery, not a component; import one of $.items.teams[i]',
      },
    ]);
  });
});

describe('importAutogenComponent, what is a component, an agent or a team', () => {
  it('takes as a component only an object whose provider is a string and whose config is an object', () => {
    expect(isAutogenComponent({ provider: 'autogen_agentchat.teams.Swarm', config: {} })).toBe(true);
    expect(isAutogenComponent({ provider: 42, config: {} })).toBe(false);
    expect(issuesOf({ provider: 42, config: {} })).toStrictEqual([
      {
        path: '$',
        provider: '(none)',
        message: 'expected an AutoGen component with "provider" and "config"',
      },
    ]);
  });

  it('reads a user proxy without component_type as an agent, which our schema then refuses alone', () => {
    const provider = 'autogen_agentchat.agents.UserProxyAgent';
    expect(issuesOf({ provider, config: { name: 'human' } })).toStrictEqual([
      {
        path: '$',
        provider,
        message: 'translated spec is invalid at agents: a single team has exactly one assistant agent',
      },
      {
        path: '$',
        provider,
        message: 'translated spec is invalid at agents: a team needs at least one assistant agent',
      },
    ]);
  });

  it('refuses a team class it does not run, naming the ones it does', () => {
    expect(issuesOf(team('DiGraphGroupChat'))).toStrictEqual([
      {
        path: '$',
        provider: 'autogen_agentchat.teams.DiGraphGroupChat',
        message:
          'not a team we can run (RoundRobinGroupChat, SelectorGroupChat, Swarm or MagenticOneGroupChat)',
      },
    ]);
  });

  it('refuses participants that are not a list as a team without participants, and nothing more', () => {
    expect(issuesOf(team('RoundRobinGroupChat', { participants: { a: assistant('a') } }))).toStrictEqual([
      {
        path: '$.config.participants',
        provider: 'autogen_agentchat.teams.RoundRobinGroupChat',
        message: 'a team needs participants',
      },
    ]);
  });
});
