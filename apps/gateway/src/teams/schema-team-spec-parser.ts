import { teamSpecSchema } from '@agentledger/agents';
import type { TeamSpecParser } from './team-spec.ts';

/** Our team spec JSON (specVersion 1), validated by libs/agents' schema; AutoGen JSON is not translated. */
export const parseTeamSpecWithSchema: TeamSpecParser = (input) => {
  const parsed = teamSpecSchema.safeParse(input);
  if (parsed.success) return { ok: true, spec: parsed.data };
  return {
    ok: false,
    kind: 'invalid',
    issues: parsed.error.issues.map((issue) => ({
      path: issue.path.map((segment) => `/${String(segment)}`).join(''),
      message: issue.message,
    })),
  };
};
