import { describe, expect, it } from 'vitest';
import { InvalidTeamSpec, parseTeamSpec } from './parse-team-spec.ts';
import { MAGENTIC_ORCHESTRATOR, teamSpecSchema } from './team-spec.ts';

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
