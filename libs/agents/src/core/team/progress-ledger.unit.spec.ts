import { describe, expect, it } from 'vitest';
import { nextStallCount, parseProgressLedger, type ProgressLedger } from './progress-ledger.ts';

/** The progress ledger's parser and stall counter (mutation testing, docs/mutation.md). */
const participants = ['researcher', 'coder'] as const;

/** A well-formed ledger as the model writes it, every reason distinct; `over` replaces whole keys. */
const raw = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  is_request_satisfied: { reason: 'not done yet', answer: false },
  is_in_loop: { reason: 'no repeats', answer: false },
  is_progress_being_made: { reason: 'new facts came in', answer: true },
  next_speaker: { reason: 'needs a source', answer: 'researcher' },
  instruction_or_question: { reason: 'the plan says so', answer: 'Find the 2019 figure.' },
  ...over,
});

/** What `raw()` parses to. */
const parsed: ProgressLedger = {
  is_request_satisfied: { answer: false, reason: 'not done yet' },
  is_in_loop: { answer: false, reason: 'no repeats' },
  is_progress_being_made: { answer: true, reason: 'new facts came in' },
  next_speaker: { answer: 'researcher', reason: 'needs a source' },
  instruction_or_question: { answer: 'Find the 2019 figure.', reason: 'the plan says so' },
};

const parse = (content: string | null) => parseProgressLedger(content, participants);

describe('parseProgressLedger: reading the JSON', () => {
  it('parses a bare JSON ledger into its five judgments', () => {
    expect(parse(JSON.stringify(raw()))).toStrictEqual({ ok: true, ledger: parsed });
  });

  it('reads the JSON inside a ```json fence with prose around it', () => {
    const content = `Here is my ledger:\n\`\`\`json\n${JSON.stringify(raw(), null, 2)}\n\`\`\`\nThat is all.`;
    expect(parse(content)).toStrictEqual({ ok: true, ledger: parsed });
  });

  it('reads the JSON inside a fence without a language tag', () => {
    const content = `Ledger follows.\n\`\`\`\n${JSON.stringify(raw(), null, 2)}\n\`\`\`\nEnd.`;
    expect(parse(content)).toStrictEqual({ ok: true, ledger: parsed });
  });

  it('reads a fence whose JSON starts right after the tag, with no whitespace or newline', () => {
    expect(parse(`\`\`\`json${JSON.stringify(raw())}\`\`\``)).toStrictEqual({ ok: true, ledger: parsed });
  });

  it('reads only the first fenced block when there are two', () => {
    const second = JSON.stringify(raw({ next_speaker: { reason: 'x', answer: 'coder' } }));
    const content = `\`\`\`json\n${JSON.stringify(raw())}\n\`\`\`\nor\n\`\`\`json\n${second}\n\`\`\``;
    expect(parse(content)).toStrictEqual({ ok: true, ledger: parsed });
  });

  it('trims a byte-order mark and non-breaking spaces that JSON itself does not allow', () => {
    expect(parse(`\uFEFF\u00A0${JSON.stringify(raw())}\u00A0`)).toStrictEqual({ ok: true, ledger: parsed });
  });

  it('rejects text that is not JSON', () => {
    expect(parse('I think the researcher should go next.')).toStrictEqual({
      ok: false,
      error: 'the progress ledger is not JSON',
    });
  });

  it('rejects a missing (null) content as not JSON', () => {
    expect(parse(null)).toStrictEqual({ ok: false, error: 'the progress ledger is not JSON' });
  });

  it.each([
    ['a number', '42'],
    ['null', 'null'],
    ['an array', '[{"answer": true, "reason": "r"}]'],
    ['a string', '"is_request_satisfied"'],
  ])('rejects JSON that is %s rather than an object', (_what, content) => {
    expect(parse(content)).toStrictEqual({ ok: false, error: 'the progress ledger is not a JSON object' });
  });
});

describe('parseProgressLedger: the five judgments', () => {
  it.each([
    ['missing', 'instruction_or_question', undefined],
    ['a string', 'is_in_loop', 'no'],
    ['null', 'is_in_loop', null],
    ['an array', 'next_speaker', ['researcher', 'r']],
    ['without a reason', 'is_in_loop', { answer: false }],
    ['without an answer', 'is_progress_being_made', { reason: 'r' }],
    ['empty', 'is_request_satisfied', {}],
  ])('rejects a judgment that is %s, naming its key', (_what, key, value) => {
    expect(parse(JSON.stringify(raw({ [key]: value })))).toStrictEqual({
      ok: false,
      error: `${key} needs an "answer" and a "reason"`,
    });
  });

  it('turns a reason or answer that is not a string into its JSON text', () => {
    const content = JSON.stringify(
      raw({
        is_in_loop: { reason: { seen: 2 }, answer: false },
        instruction_or_question: { reason: 7, answer: ['step 1', 'step 2'] },
      }),
    );
    expect(parse(content)).toStrictEqual({
      ok: true,
      ledger: {
        ...parsed,
        is_in_loop: { answer: false, reason: '{"seen":2}' },
        instruction_or_question: { answer: '["step 1","step 2"]', reason: '7' },
      },
    });
  });
});

describe('parseProgressLedger: yes/no answers', () => {
  it.each([
    ['the strings "true" and "false"', ['false', 'true', 'false'], [false, true, false]],
    ['them in any case and with surrounding spaces', [' FALSE ', ' True\n', 'TRUE'], [false, true, true]],
  ])('accepts %s as booleans', (_, [satisfied, loop, progress], [isSatisfied, inLoop, progressing]) => {
    const content = JSON.stringify(
      raw({
        is_request_satisfied: { reason: 'a', answer: satisfied },
        is_in_loop: { reason: 'b', answer: loop },
        is_progress_being_made: { reason: 'c', answer: progress },
      }),
    );
    expect(parse(content)).toStrictEqual({
      ok: true,
      ledger: {
        ...parsed,
        is_request_satisfied: { answer: isSatisfied, reason: 'a' },
        is_in_loop: { answer: inLoop, reason: 'b' },
        is_progress_being_made: { answer: progressing, reason: 'c' },
      },
    });
  });

  it.each([
    ['is_request_satisfied', 'untrue'],
    ['is_in_loop', 'falsehood'],
    ['is_progress_being_made', 'yes'],
    ['is_progress_being_made', ''],
    ['is_in_loop', 1],
    ['is_request_satisfied', null],
  ])('rejects %s answered %j as not a boolean', (key, answer) => {
    expect(parse(JSON.stringify(raw({ [key]: { reason: 'r', answer } })))).toStrictEqual({
      ok: false,
      error: 'a yes/no answer is not a boolean',
    });
  });
});

describe('parseProgressLedger: the next speaker', () => {
  it('rejects a next speaker who is not a participant while the request is not satisfied', () => {
    const content = JSON.stringify(raw({ next_speaker: { reason: 'r', answer: 'manager' } }));
    expect(parse(content)).toStrictEqual({ ok: false, error: 'next_speaker "manager" is not a participant' });
  });

  it('cuts a long non-participant name to its first 64 characters in the error', () => {
    const name = `${'a'.repeat(60)}bcdefghij`;
    const content = JSON.stringify(raw({ next_speaker: { reason: 'r', answer: name } }));
    expect(parse(content)).toStrictEqual({
      ok: false,
      error: `next_speaker "${'a'.repeat(60)}bcde" is not a participant`,
    });
  });

  it('accepts any next speaker once the request is satisfied', () => {
    const content = JSON.stringify(
      raw({
        is_request_satisfied: { reason: 'answered', answer: true },
        next_speaker: { reason: 'nobody', answer: 'none' },
      }),
    );
    expect(parse(content)).toStrictEqual({
      ok: true,
      ledger: {
        ...parsed,
        is_request_satisfied: { answer: true, reason: 'answered' },
        next_speaker: { answer: 'none', reason: 'nobody' },
      },
    });
  });

  it('accepts the other participant as next speaker', () => {
    const content = JSON.stringify(raw({ next_speaker: { reason: 'write it', answer: 'coder' } }));
    expect(parse(content)).toStrictEqual({
      ok: true,
      ledger: { ...parsed, next_speaker: { answer: 'coder', reason: 'write it' } },
    });
  });
});

describe('nextStallCount', () => {
  const ledger = (progress: boolean, loop: boolean): ProgressLedger => ({
    ...parsed,
    is_progress_being_made: { answer: progress, reason: 'r' },
    is_in_loop: { answer: loop, reason: 'r' },
  });

  it('goes down by one on progress without a loop', () => {
    expect(nextStallCount(2, ledger(true, false))).toBe(1);
  });

  it('never goes below zero', () => {
    expect(nextStallCount(0, ledger(true, false))).toBe(0);
  });

  it('goes up by one when no progress is made', () => {
    expect(nextStallCount(2, ledger(false, false))).toBe(3);
  });

  it('goes up by one in a loop even while progress is made', () => {
    expect(nextStallCount(2, ledger(true, true))).toBe(3);
  });

  it('goes up by one with no progress and a loop', () => {
    expect(nextStallCount(0, ledger(false, true))).toBe(1);
  });
});
