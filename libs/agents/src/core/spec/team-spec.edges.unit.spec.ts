import { caught } from '@agentledger/testing';
import { describe, expect, it } from 'vitest';
import { InvalidTeamSpec, parseTeamSpec } from './parse-team-spec.ts';
import { handoffSpecSchema, MAGENTIC_ORCHESTRATOR, teamSpecSchema } from './team-spec.ts';

const team = (type: string, agents: readonly unknown[]) => ({
  specVersion: 1,
  name: 'team',
  type,
  agents,
});
/** Each issue of the schema's refusal, with its path as zod gives it. */
const issues = (input: unknown) =>
  teamSpecSchema.safeParse(input).error?.issues.map((i) => ({ path: i.path, message: i.message })) ?? [];

describe('team spec refinements: the issue path and message of each', () => {
  it('a swarm whose first agent is not an assistant: agents.0', () => {
    expect(issues(team('swarm', [{ kind: 'user_proxy', name: 'human' }, { name: 'a' }]))).toStrictEqual([
      { path: ['agents', 0], message: 'a swarm starts with an assistant agent' },
    ]);
    expect(issues(team('swarm', [{ name: 'a' }, { kind: 'user_proxy', name: 'human' }]))).toStrictEqual([]);
  });

  it('a self-handoff names the agent, the handoff and its target', () => {
    expect(issues(team('swarm', [{ name: 'b' }, { name: 'a', handoffs: ['b', 'a'] }]))).toStrictEqual([
      { path: ['agents', 1, 'handoffs', 1, 'target'], message: 'agent "a" cannot hand off to itself' },
    ]);
  });

  it('a tool named twice in one agent: agents.i.tools', () => {
    expect(
      issues(
        team('round_robin', [
          { name: 'b', tools: ['calc'] },
          { name: 'a', tools: ['calc', 'clock', 'calc'] },
        ]),
      ),
    ).toStrictEqual([{ path: ['agents', 1, 'tools'], message: 'duplicate tool name' }]);
  });

  it('magentic_one: an agent named as the orchestrator, and handoffs, are refused where they are', () => {
    expect(issues(team('magentic_one', [{ name: 'a' }, { name: MAGENTIC_ORCHESTRATOR }]))).toStrictEqual([
      {
        path: ['agents', 1, 'name'],
        message: `"${MAGENTIC_ORCHESTRATOR}" is the orchestrator's name in a magentic_one team`,
      },
    ]);
    expect(issues(team('magentic_one', [{ name: 'a' }, { name: 'b', handoffs: ['a'] }]))).toStrictEqual([
      {
        path: ['agents', 1, 'handoffs'],
        message: 'a magentic_one team has no handoffs: the orchestrator picks every speaker',
      },
    ]);
    expect(issues(team('magentic_one', [{ name: 'a' }, { name: 'b' }]))).toStrictEqual([]);
  });

  it('the same name and handoffs are fine outside magentic_one', () => {
    expect(
      issues(
        team('swarm', [{ name: 'a', handoffs: [MAGENTIC_ORCHESTRATOR] }, { name: MAGENTIC_ORCHESTRATOR }]),
      ),
    ).toStrictEqual([]);
  });

  it('InvalidTeamSpec joins each path with dots', () => {
    const error = (() => {
      try {
        parseTeamSpec(
          team('swarm', [
            { kind: 'user_proxy', name: 'human' },
            { name: 'a', tools: ['x', 'x'] },
          ]),
          {
            toolNames: ['x'],
          },
        );
      } catch (e) {
        return e as InvalidTeamSpec;
      }
      throw new Error('expected invalid');
    })();
    expect(error).toBeInstanceOf(InvalidTeamSpec);
    expect(error.issues).toStrictEqual([
      { path: 'agents.0', message: 'a swarm starts with an assistant agent' },
      { path: 'agents.1.tools', message: 'duplicate tool name' },
    ]);
  });

  it('fills a handoff given by target alone with AutoGen’s name, description and message', () => {
    const spec = teamSpecSchema.parse(
      team('swarm', [{ name: 'a', handoffs: ['Billing'] }, { name: 'Billing' }]),
    );
    expect(spec.agents[0]?.kind === 'assistant' ? spec.agents[0].handoffs : []).toStrictEqual([
      {
        target: 'Billing',
        name: 'transfer_to_billing',
        description: 'Handoff to Billing.',
        message: 'Transferred to Billing, adopting the role of Billing immediately.',
      },
    ]);
  });
});

/** The issues of a team of one assistant `a` with these fields, paths joined as the API shows them. */
const assistantIssues = (fields: object) =>
  issues(team('round_robin', [{ name: 'a', ...fields }])).map((i) => ({
    path: i.path.join('.'),
    message: i.message,
  }));
const pattern = (path: string, regex: RegExp) => ({
  path,
  message: `Invalid string: must match pattern ${String(regex)}`,
});

describe('team spec fields: what each refuses, and the defaults', () => {
  it('agent names: an identifier, never "user", each refusal with its message', () => {
    expect(assistantIssues({ name: '1a' })).toStrictEqual([
      {
        path: 'agents.0.name',
        message: 'an identifier: letters, digits, _ or -, starting with a letter or _',
      },
    ]);
    const reserved = { path: 'agents.0.name', message: '"user" is reserved for the human user' };
    expect(assistantIssues({ name: 'user' })).toStrictEqual([reserved]);
    expect(
      issues(team('round_robin', [{ kind: 'user_proxy', name: 'user' }, { name: 'a' }])).map((i) => ({
        path: i.path.join('.'),
        message: i.message,
      })),
    ).toStrictEqual([reserved]);
  });

  it('model endpoint and key variable names: nothing before or after the name', () => {
    const model = (fields: object) => assistantIssues({ model: { model: 'm', ...fields } });
    expect(model({ endpoint: 'eu.west-1_a', apiKeyEnv: '_OPENAI_KEY_2' })).toStrictEqual([]);
    for (const endpoint of ['x!', '!x'])
      expect(model({ endpoint })).toStrictEqual([
        pattern('agents.0.model.endpoint', /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
      ]);
    for (const apiKeyEnv of ['KEY-', '-KEY', '1KEY'])
      expect(model({ apiKeyEnv })).toStrictEqual([
        pattern('agents.0.model.apiKeyEnv', /^[A-Za-z_][A-Za-z0-9_]*$/),
      ]);
  });

  it('temperature: 0 to 2; maxRetries: an integer from 0 to 10', () => {
    const model = (fields: object) => assistantIssues({ model: { model: 'm', ...fields } });
    for (const temperature of [0, 0.7, 1, 2]) expect(model({ temperature })).toStrictEqual([]);
    for (const maxRetries of [0, 3, 10]) expect(model({ maxRetries })).toStrictEqual([]);
    expect(model({ temperature: -0.5, maxRetries: -1 })).toStrictEqual([
      { path: 'agents.0.model.temperature', message: 'Too small: expected number to be >=0' },
      { path: 'agents.0.model.maxRetries', message: 'Too small: expected number to be >=0' },
    ]);
    expect(model({ temperature: 2.5, maxRetries: 11 })).toStrictEqual([
      { path: 'agents.0.model.temperature', message: 'Too big: expected number to be <=2' },
      { path: 'agents.0.model.maxRetries', message: 'Too big: expected number to be <=10' },
    ]);
  });

  it('pinned MCP tool names: a function name, nothing before or after', () => {
    const tool = (name: string) => ({
      server: 's',
      name,
      description: '',
      inputSchema: {},
      idempotent: false,
    });
    expect(assistantIssues({ mcpTools: [tool('read_file-2')] })).toStrictEqual([]);
    for (const name of ['x!', '!x'])
      expect(assistantIssues({ mcpTools: [tool(name)] })).toStrictEqual([
        pattern('agents.0.mcpTools.0.name', /^[A-Za-z0-9_-]{1,64}$/),
      ]);
  });

  it('an assistant without tools or approvals has none of either', () => {
    const spec = teamSpecSchema.parse(team('round_robin', [{ name: 'a' }]));
    expect(spec.agents[0]).toMatchObject({ tools: [], approvalRequired: [] });
  });

  it('the selector prompt and the final answer prompt default to AutoGen’s, word for word', () => {
    const selector = teamSpecSchema.parse({ ...team('selector', [{ name: 'a' }]), selector: {} }).selector;
    expect(selector?.prompt).toBe(
      [
        'You are in a role play game. The following roles are available:',
        '{roles}.',
        'Read the following conversation. Then select the next role from {participants} to play. Only return the role.',
        '',
        '{history}',
        '',
        'Read the above conversation. Then select the next role from {participants} to play. Only return the role.',
      ].join('\n'),
    );
    const magentic = teamSpecSchema.parse({ ...team('magentic_one', [{ name: 'a' }]), magenticOne: {} });
    expect(magentic.magenticOne?.finalAnswerPrompt).toBe(
      [
        '',
        'We are working on the following task:',
        '{task}',
        '',
        'We have completed the task.',
        '',
        'The above messages contain the conversation that took place to complete the task.',
        '',
        'Based on the information gathered, provide the final answer to the original request.',
        'The answer should be phrased as if you were speaking to the user.',
        '',
      ].join('\n'),
    );
  });
});

describe('handoff names: the function names the model is offered', () => {
  it('refuses a given name or a default transfer_to_<target> that is no function name, naming the handoff', () => {
    const message =
      'a function name the model calls: 1 to 64 letters, digits, _ or - (by default transfer_to_<target>)';
    expect(
      issues(
        team('swarm', [
          { name: 'a', handoffs: ['b', { target: 'b', name: 'bad name!' }, 'some system', 'c'.repeat(64)] },
          { name: 'b' },
        ]),
      ),
    ).toStrictEqual([
      { path: ['agents', 0, 'handoffs', 1, 'name'], message },
      { path: ['agents', 0, 'handoffs', 2, 'name'], message },
      { path: ['agents', 0, 'handoffs', 3, 'name'], message },
    ]);
    const error = caught(() =>
      parseTeamSpec(team('swarm', [{ name: 'a', handoffs: ['user', 'some system'] }]), { toolNames: [] }),
    ) as InvalidTeamSpec;
    expect(error).toBeInstanceOf(InvalidTeamSpec);
    expect(error.issues).toStrictEqual([{ path: 'agents.0.handoffs.1.name', message }]);
  });

  it('keeps a target outside the team whose default name is a function name (user)', () => {
    const spec = teamSpecSchema.parse(team('swarm', [{ name: 'a', handoffs: ['user'] }]));
    expect(
      spec.agents[0]?.kind === 'assistant' ? spec.agents[0].handoffs.map((h) => h.name) : [],
    ).toStrictEqual(['transfer_to_user']);
  });
});

describe('handoffSpecSchema, the shape of a normalized handoff', () => {
  it('holds every handoff a spec normalizes', () => {
    const spec = teamSpecSchema.parse(
      team('swarm', [
        { name: 'writer', handoffs: ['Reviewer', { target: 'Reviewer', name: 'ask-review_2' }] },
        { name: 'Reviewer' },
      ]),
    );
    const handoffs = spec.agents[0]?.kind === 'assistant' ? spec.agents[0].handoffs : [];
    expect(handoffs.map((h) => h.name)).toStrictEqual(['transfer_to_reviewer', 'ask-review_2']);
    for (const handoff of handoffs) expect(handoffSpecSchema.parse(handoff)).toStrictEqual(handoff);
  });

  it('a target of one character or more; a name of 1 to 64 letters, digits, _ or -, nothing around it', () => {
    const handoff = { target: 'Reviewer', name: 'ab', description: 'd', message: 'm' };
    const paths = (fields: object) =>
      handoffSpecSchema.safeParse({ ...handoff, ...fields }).error?.issues.map((i) => i.path) ?? [];
    expect(paths({})).toStrictEqual([]);
    expect(paths({ target: 'R', name: 'a' })).toStrictEqual([]);
    expect(paths({ name: 'a'.repeat(64) })).toStrictEqual([]);
    expect(paths({ target: '' })).toStrictEqual([['target']]);
    for (const name of ['', 'x!', '!x', 'a b', 'a'.repeat(65)])
      expect(paths({ name })).toStrictEqual([['name']]);
  });
});
