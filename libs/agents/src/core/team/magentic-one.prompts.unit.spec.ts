import { describe, expect, it } from 'vitest';
import type { AgentSpec } from '../spec/team-spec.ts';
import { magenticPrompts, participantNames, teamDescription } from './magentic-one.prompts.ts';

/** The Magentic-One orchestrator's prompts, rendered (mutation testing, docs/mutation.md). */
const agent = (name: string, description: string): AgentSpec => ({ kind: 'user_proxy', name, description });

const TASK = 'Find the population of Lyon in 2019.';
const TEAM = 'researcher: Looks things up.\ncoder: Writes code.';
const FACTS = '1. GIVEN OR VERIFIED FACTS\n- Lyon is in France.';
const PLAN = '- researcher looks it up\n- coder checks it';

describe('teamDescription', () => {
  it('writes one "name: description" line per agent, joined by newlines', () => {
    expect(teamDescription([agent('researcher', 'Looks things up.'), agent('coder', 'Writes code.')])).toBe(
      'researcher: Looks things up.\ncoder: Writes code.',
    );
  });

  it('trims each line, so an empty description leaves "name:"', () => {
    expect(teamDescription([agent('researcher', 'Looks things up.  '), agent('coder', '')])).toBe(
      'researcher: Looks things up.\ncoder:',
    );
  });

  it('is empty for no agents', () => {
    expect(teamDescription([])).toBe('');
  });
});

describe('participantNames', () => {
  it('joins the names with ", "', () => {
    expect(participantNames([agent('researcher', 'r'), agent('coder', 'c'), agent('user', 'u')])).toBe(
      'researcher, coder, user',
    );
  });

  it('is the single name for one agent', () => {
    expect(participantNames([agent('researcher', 'r')])).toBe('researcher');
  });
});

describe('the placeholder substitution', () => {
  it('substitutes a multi-character key', () => {
    expect(magenticPrompts.finalAnswer('Answer: {task}', 'the task')).toBe('Answer: the task');
  });

  it('substitutes every occurrence of a key', () => {
    expect(magenticPrompts.finalAnswer('{task} / {task}', 'T')).toBe('T / T');
  });

  it('keeps an unknown placeholder as it is', () => {
    expect(magenticPrompts.finalAnswer('{task} in {format} {}', 'T')).toBe('T in {format} {}');
  });

  it('keeps braces around anything but a word as they are', () => {
    expect(magenticPrompts.finalAnswer('{ task } {task!} {-}', 'T')).toBe('{ task } {task!} {-}');
  });

  it('does not expand a placeholder that appears inside a substituted value', () => {
    const full = magenticPrompts.full('use {plan} and {team}', 'the team', 'the facts', 'the plan');
    expect(full).toContain(
      'We are working to address the following user request:\n\nuse {plan} and {team}\n',
    );
  });
});

describe('the facts prompt', () => {
  const prompt = magenticPrompts.facts(TASK);

  it('puts the request in its place', () => {
    expect(prompt).toContain(`Here is the request:\n\n${TASK}\n\nHere is the pre-survey:`);
  });

  it('asks for the four fact-sheet headings and nothing else', () => {
    expect(prompt).toContain('Below I will present you a request.');
    expect(prompt).toContain('1. GIVEN OR VERIFIED FACTS');
    expect(prompt).toContain('2. FACTS TO LOOK UP');
    expect(prompt).toContain('3. FACTS TO DERIVE');
    expect(prompt).toContain('4. EDUCATED GUESSES');
    expect(prompt).toContain('DO NOT include any other headings or sections in your response.');
  });

  it('has no placeholder left', () => {
    expect(prompt).not.toContain('{task}');
  });
});

describe('the plan prompt', () => {
  const prompt = magenticPrompts.plan(TEAM);

  it('puts the team in its place and asks for a bullet-point plan', () => {
    expect(prompt).toContain(
      `Fantastic. To address this request we have assembled the following team:\n\n${TEAM}\n\nBased on the team composition`,
    );
    expect(prompt).toContain('please devise a short bullet-point plan for addressing the original request.');
    expect(prompt).not.toContain('{team}');
  });
});

describe('the full task ledger', () => {
  const prompt = magenticPrompts.full(TASK, TEAM, FACTS, PLAN);

  it('puts the task, team, facts and plan each under its heading', () => {
    expect(prompt).toContain(`We are working to address the following user request:\n\n${TASK}\n`);
    expect(prompt).toContain(`To answer this request we have assembled the following team:\n\n${TEAM}\n`);
    expect(prompt).toContain(`Here is an initial fact sheet to consider:\n\n${FACTS}\n`);
    expect(prompt).toContain(`Here is the plan to follow as best as possible:\n\n${PLAN}\n`);
  });

  it('has them in that order', () => {
    expect(prompt.indexOf(TASK)).toBeLessThan(prompt.indexOf(TEAM));
    expect(prompt.indexOf(TEAM)).toBeLessThan(prompt.indexOf(FACTS));
    expect(prompt.indexOf(FACTS)).toBeLessThan(prompt.indexOf(PLAN));
  });
});

describe('the progress ledger prompt', () => {
  const prompt = magenticPrompts.progress(TASK, TEAM, 'researcher, coder');

  it('puts the task and team in their places', () => {
    expect(prompt).toContain(`Recall we are working on the following request:\n\n${TASK}\n`);
    expect(prompt).toContain(`And we have assembled the following team:\n\n${TEAM}\n`);
  });

  it('asks the five questions', () => {
    expect(prompt).toContain('- Is the request fully satisfied?');
    expect(prompt).toContain('- Are we in a loop');
    expect(prompt).toContain('- Are we making forward progress?');
    expect(prompt).toContain('- Who should speak next? (select from: researcher, coder)');
    expect(prompt).toContain('- What instruction or question would you give this team member?');
  });

  it('gives the JSON schema with its five keys', () => {
    expect(prompt).toContain(
      'Please output an answer in pure JSON format according to the following schema.',
    );
    expect(prompt).toContain('"is_request_satisfied": {');
    expect(prompt).toContain('"is_in_loop": {');
    expect(prompt).toContain('"is_progress_being_made": {');
    expect(prompt).toContain('"next_speaker": {');
    expect(prompt).toContain('"instruction_or_question": {');
    expect(prompt).toContain('"answer": string (select from: researcher, coder)');
  });

  it('lists the names in both places and leaves the schema braces alone', () => {
    expect(prompt.match(/select from: researcher, coder\)/g)).toHaveLength(2);
    expect(prompt).not.toContain('{names}');
    expect(prompt).toContain('\n    {\n       "is_request_satisfied"');
  });
});

describe('the facts update prompt', () => {
  const prompt = magenticPrompts.factsUpdate(TASK, FACTS);

  it('puts the task and the old fact sheet in their places', () => {
    expect(prompt).toContain(`As a reminder, we are working to solve the following task:\n\n${TASK}\n`);
    expect(prompt).toContain(`Here is the old fact sheet:\n\n${FACTS}\n`);
    expect(prompt).toContain('Please rewrite the following fact sheet');
  });
});

describe('the plan update prompt', () => {
  const prompt = magenticPrompts.planUpdate(TEAM);

  it('asks what went wrong and puts the team in its place', () => {
    expect(prompt).toContain('Please briefly explain what went wrong on this last run');
    expect(prompt).toContain(
      `(do not involve any other outside people since we cannot contact anyone else):\n\n${TEAM}\n`,
    );
    expect(prompt).not.toContain('{team}');
  });
});
