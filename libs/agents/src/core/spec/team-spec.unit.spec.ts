import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidTeamSpec, parseTeamSpec } from './parse-team-spec.ts';
import { teamSpecHash, teamSpecSchema } from './team-spec.ts';

const toolNames = ['calculator', 'http_request'];
const design = {
  specVersion: 1,
  name: 'support',
  type: 'round_robin',
  agents: [
    {
      name: 'support_agent',
      description: 'Answers customer questions',
      systemMessage: 'You are a helpful support agent. Say TERMINATE when done.',
      model: { endpoint: 'default', model: 'gpt-4o-mini' },
      tools: ['calculator'],
      handoffs: [],
    },
  ],
  termination: {
    kind: 'any_of',
    conditions: [
      { kind: 'text_mention', text: 'TERMINATE' },
      { kind: 'max_messages', limit: 10 },
    ],
  },
  limits: { maxParallelToolCalls: 4, maxTokens: 20000, turnTimeoutSeconds: 120 },
  onBusy: 'enqueue',
};

describe('team spec schema', () => {
  it('accepts the example of docs/team-specs.md and fills defaults', () => {
    const spec = parseTeamSpec(design, { toolNames });
    expect(spec.agents[0]).toMatchObject({
      kind: 'assistant',
      reflectOnToolUse: false,
      maxToolIterations: 1,
    });
  });

  it('accepts the example team shipped in examples/', () => {
    const path = fileURLToPath(new URL('../../../../../examples/support-team.json', import.meta.url));
    const spec = parseTeamSpec(JSON.parse(readFileSync(path, 'utf8')), { toolNames });
    expect(spec).toMatchObject({ name: 'support', type: 'round_robin' });
  });

  it('hashes the normalized spec: defaults written or not, same hash', () => {
    const a = teamSpecSchema.parse(design);
    const b = teamSpecSchema.parse({ ...design, agents: [{ ...design.agents[0], reflectOnToolUse: false }] });
    expect(teamSpecHash(a)).toBe(teamSpecHash(b));
    expect(teamSpecHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(teamSpecHash(teamSpecSchema.parse({ ...design, name: 'other' }))).not.toBe(teamSpecHash(a));
  });

  it('names every invalid field', () => {
    const bad = {
      ...design,
      specVersion: 2,
      agents: [{ name: 'a b', handoffs: ['ghost'] }, { name: 'user' }],
      termination: { kind: 'max_messages', limit: 0 },
    };
    const error = (() => {
      try {
        parseTeamSpec(bad, { toolNames });
      } catch (e) {
        return e as InvalidTeamSpec;
      }
      throw new Error('expected invalid');
    })();
    expect(error).toBeInstanceOf(InvalidTeamSpec);
    expect(error.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['specVersion', 'agents.0.name', 'agents.1.name', 'termination.limit']),
    );
  });

  it('checks team shapes: single has one assistant, no self-handoff, names are unique', () => {
    const issues = (input: unknown) =>
      teamSpecSchema.safeParse(input).error?.issues.map((i) => i.message) ?? [];
    expect(issues({ ...design, type: 'single', agents: [{ name: 'a' }, { name: 'b' }] })).toContain(
      'a single team has exactly one assistant agent',
    );
    expect(issues({ ...design, type: 'swarm', agents: [{ name: 'a', handoffs: ['a'] }] })).toContain(
      'agent "a" cannot hand off to itself',
    );
    expect(issues({ ...design, type: 'swarm', agents: [{ name: 'a', handoffs: ['crm_system'] }] })).toEqual(
      [],
    );
    expect(issues({ ...design, agents: [{ name: 'a' }, { name: 'a' }] })).toContain(
      'duplicate agent name "a"',
    );
    expect(issues({ ...design, agents: [{ kind: 'user_proxy', name: 'h' }] })).toContain(
      'a team needs at least one assistant agent',
    );
  });
});
