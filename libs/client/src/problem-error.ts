import type { Problem } from './types.ts';

/**
 * A non-2xx answer: `problem` is the gateway's RFC 9457 problem+json (for a body that is not one,
 * a problem built from the status and the first 500 characters of the body).
 */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly status: number;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
    this.status = problem.status;
    this.problem = problem;
  }

  /** The problem's stable `code` (e.g. `session_not_found`, `validation_failed`). */
  get code(): string {
    return this.problem.code;
  }
}

const isProblem = (value: unknown): value is Partial<Problem> & Pick<Problem, 'status' | 'title'> =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Problem).status === 'number' &&
  typeof (value as Problem).title === 'string';

/** Reads an error response into a ProblemError. */
export const toProblemError = async (response: Response): Promise<ProblemError> => {
  const text = await response.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (isProblem(parsed))
    return new ProblemError({ detail: '', code: 'unknown', type: 'about:blank', ...parsed });
  return new ProblemError({
    type: 'about:blank',
    title: response.statusText || 'HTTP error',
    status: response.status,
    detail: text.slice(0, 500),
    code: 'unknown',
  });
};
