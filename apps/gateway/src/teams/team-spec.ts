import { createHash } from 'node:crypto';

/** Why a team spec was refused: 400 when it does not validate, 422 when it validates but cannot run. */
export type TeamSpecIssue = Readonly<{ path: string; message: string }>;

export type TeamSpecCheck =
  | Readonly<{ ok: true; spec: unknown }>
  | Readonly<{ ok: false; kind: 'invalid' | 'unsupported'; issues: readonly TeamSpecIssue[] }>;

/**
 * Validates a submitted team spec (our JSON or an AutoGen AgentChat component) and returns it in
 * our canonical form. Supplied by the composition root (libs/agents' schema and importer).
 */
export type TeamSpecParser = (input: unknown) => TeamSpecCheck | Promise<TeamSpecCheck>;

const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, entry]) => entry !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, entry]) => [key, canonical(entry)]),
    );
  }
  return value;
};

/** SHA-256 of the spec's canonical JSON (keys sorted): equal specs have equal hashes. */
export const teamSpecHash = (spec: unknown): string =>
  createHash('sha256')
    .update(JSON.stringify(canonical(spec)), 'utf8')
    .digest('hex');
