import { describe, expect, it } from 'vitest';
import { sessionHarness, spec } from '../../testing/session-harness.ts';
import { magenticPrompts, teamDescription } from '../team/magentic-one.prompts.ts';
import { buildOrchestratorContext, magenticCallIds, orchestratorModel } from './magentic-context.ts';

describe('buildOrchestratorContext', () => {
  it('plans after an empty facts answer when the facts call gave no text', () => {
    const team = spec({ type: 'magentic_one', agents: [{ name: 'researcher' }] });
    const h = sessionHarness(team);
    h.start();
    h.post('m1', 'Look it up');
    h.answer(null);
    const s = h.state();
    const plan = s.modelCalls[magenticCallIds.plan(s.turn!.turnId, 0)]!;
    expect(plan.status).toBe('pending');
    expect(buildOrchestratorContext(team, s, plan)).toEqual([
      { role: 'user', content: magenticPrompts.facts('Look it up') },
      { role: 'assistant', content: '' },
      { role: 'user', content: magenticPrompts.plan(teamDescription(team.agents)) },
    ]);
  });
});

describe('orchestratorModel', () => {
  const openai = (model: string) => ({ provider: 'openai' as const, model });
  const agents = [
    { kind: 'user_proxy' as const, name: 'human' },
    { name: 'writer', model: openai('writer-model') },
    { name: 'critic', model: openai('critic-model') },
  ];

  it("is the team's magenticOne.model when it sets one, not an assistant's", () => {
    const team = spec({ type: 'magentic_one', agents, magenticOne: { model: openai('orchestrator-model') } });
    expect(orchestratorModel(team)).toBe(team.magenticOne!.model);
    expect(orchestratorModel(team)).toMatchObject({ model: 'orchestrator-model' });
  });

  it("else the first assistant's model, past a user proxy listed before it", () => {
    const team = spec({ type: 'magentic_one', agents });
    expect(orchestratorModel(team)).toMatchObject({ model: 'writer-model' });
    const writer = team.agents[1];
    expect(orchestratorModel(team)).toBe(writer?.kind === 'assistant' ? writer.model : null);
  });
});
