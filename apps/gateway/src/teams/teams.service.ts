import type { Principal } from '../auth/api-key.ts';
import {
  IdempotencyKeyReused,
  NotFound,
  Unprocessable,
  ValidationFailed,
  type FieldError,
} from '@agentledger/events';
import type { TeamSpecIssue, TeamSpecParser } from './team-spec.ts';
import { teamSpecHash } from './team-spec.ts';
import type { TeamRepository } from './team-repository.port.ts';
import type { PutTeamResponse, TeamResponse } from './teams.schemas.ts';

export type PutTeamInput = Readonly<{ teamId: string; spec: unknown; idempotencyKey?: string }>;

/** The one application service behind REST and gRPC for team specs. */
export type TeamsService = Readonly<{
  putTeam: (principal: Principal, input: PutTeamInput) => Promise<PutTeamResponse>;
  getTeam: (principal: Principal, teamId: string) => Promise<TeamResponse>;
}>;

const toFieldErrors = (issues: readonly TeamSpecIssue[]): FieldError[] =>
  issues.map(({ path, message }) => ({
    in: 'body',
    field: path === '' ? '(body)' : path.replace(/^\//, '').replaceAll('/', '.'),
    pointer: `#${path.startsWith('/') || path === '' ? path : `/${path}`}`,
    message,
  }));

export const createTeamsService = (
  deps: Readonly<{ teams: TeamRepository; parseTeamSpec: TeamSpecParser }>,
): TeamsService => ({
  putTeam: async (principal, { teamId, spec, idempotencyKey }) => {
    const check = await deps.parseTeamSpec(spec);
    if (!check.ok) {
      const errors = toFieldErrors(check.issues);
      if (check.kind === 'invalid') throw new ValidationFailed(errors);
      throw new Unprocessable(
        `The team spec cannot run: ${check.issues.map((issue) => issue.message).join('; ')}`,
        errors,
      );
    }
    const result = await deps.teams.put(principal.tenantId, teamId, check.spec, {
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      actor: principal.keyId,
    });
    if (result.specHash !== teamSpecHash(check.spec)) throw new IdempotencyKeyReused();
    return { teamId, version: result.version };
  },
  getTeam: async (principal, teamId) => {
    const team = await deps.teams.get(principal.tenantId, teamId);
    if (team === undefined) throw new NotFound('team', teamId);
    return { ...team, spec: team.spec as Record<string, unknown> };
  },
});
