/** One judgment of the progress ledger: the model's answer and its reason. */
export type Judgment<T> = Readonly<{ answer: T; reason: string }>;

/** The orchestrator's progress ledger, as AutoGen's MagenticOneOrchestrator asks for it. */
export type ProgressLedger = Readonly<{
  is_request_satisfied: Judgment<boolean>;
  is_in_loop: Judgment<boolean>;
  is_progress_being_made: Judgment<boolean>;
  next_speaker: Judgment<string>;
  instruction_or_question: Judgment<string>;
}>;

export type LedgerParse =
  Readonly<{ ok: true; ledger: ProgressLedger }> | Readonly<{ ok: false; error: string }>;

/** AutoGen's `extract_json_from_str`: the first fenced block when there is one, else the whole text. */
const jsonText = (content: string): string => {
  const fenced = /```(?:json)?\s*\n?([\s\S]*?)```/.exec(content);
  return (fenced ? fenced[1]! : content).trim();
};

const asBoolean = (value: unknown): boolean | undefined => {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim()))
    return value.trim().toLowerCase() === 'true';
  return undefined;
};

const judgment = (raw: Readonly<Record<string, unknown>>, key: string): Record<string, unknown> | null => {
  const value = raw[key];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  return 'answer' in record && 'reason' in record ? record : null;
};

const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * Parses and checks a progress ledger as AutoGen does: every key is an object with `answer` and
 * `reason`, and unless the request is satisfied the next speaker is a participant. Booleans may be
 * written as `"true"`/`"false"`. Pure: the decider runs it on the recorded model output.
 */
export const parseProgressLedger = (content: string | null, participants: readonly string[]): LedgerParse => {
  let raw: unknown;
  try {
    raw = JSON.parse(jsonText(content ?? ''));
  } catch {
    return { ok: false, error: 'the progress ledger is not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, error: 'the progress ledger is not a JSON object' };
  const record = raw as Record<string, unknown>;
  const keys = [
    'is_request_satisfied',
    'is_in_loop',
    'is_progress_being_made',
    'next_speaker',
    'instruction_or_question',
  ] as const;
  const parts: Record<string, Record<string, unknown>> = {};
  for (const key of keys) {
    const part = judgment(record, key);
    if (!part) return { ok: false, error: `${key} needs an "answer" and a "reason"` };
    parts[key] = part;
  }
  const flag = (key: 'is_request_satisfied' | 'is_in_loop' | 'is_progress_being_made') => {
    const answer = asBoolean(parts[key]!['answer']);
    return answer === undefined ? undefined : { answer, reason: text(parts[key]!['reason']) };
  };
  const satisfied = flag('is_request_satisfied');
  const loop = flag('is_in_loop');
  const progress = flag('is_progress_being_made');
  if (!satisfied || !loop || !progress) return { ok: false, error: 'a yes/no answer is not a boolean' };
  const speaker = text(parts['next_speaker']!['answer']);
  if (!satisfied.answer && !participants.includes(speaker))
    return { ok: false, error: `next_speaker "${speaker.slice(0, 64)}" is not a participant` };
  return {
    ok: true,
    ledger: {
      is_request_satisfied: satisfied,
      is_in_loop: loop,
      is_progress_being_made: progress,
      next_speaker: { answer: speaker, reason: text(parts['next_speaker']!['reason']) },
      instruction_or_question: {
        answer: text(parts['instruction_or_question']!['answer']),
        reason: text(parts['instruction_or_question']!['reason']),
      },
    },
  };
};

/** AutoGen's stall count: up on no progress or a loop, otherwise down (never below 0). */
export const nextStallCount = (stalls: number, ledger: ProgressLedger): number =>
  !ledger.is_progress_being_made.answer || ledger.is_in_loop.answer ? stalls + 1 : Math.max(0, stalls - 1);
