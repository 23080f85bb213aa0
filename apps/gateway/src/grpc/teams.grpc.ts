import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { z } from 'zod';
import type { Authenticator } from '../auth/authenticator.ts';
import { unary } from './grpc-handlers.ts';
import { ValidationFailed } from '@agentledger/events';
import { clientId, idempotencyKey, parseInput } from '../http/validation.ts';
import { teamSpecBodySchema } from '../teams/teams.schemas.ts';
import type { TeamsService } from '../teams/teams.service.ts';

type PutTeamRequest = { team_id: string; spec_json: string; idempotency_key: string };
type PutTeamResponse = { team_id: string; version: number };
type GetTeamRequest = { team_id: string };
type Team = { team_id: string; version: number; spec_hash: string; updated_at: string; spec_json: string };

const putTeamSchema = z.object({
  team_id: clientId,
  spec_json: z.string().min(1),
  idempotency_key: z.union([z.literal(''), idempotencyKey]),
});
const getTeamSchema = z.object({ team_id: clientId });

const parseJsonField = (text: string, field: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationFailed([{ in: 'body', field, message: 'not valid JSON' }]);
  }
};

export const teamsGrpcHandlers = (
  authenticator: Authenticator,
  teams: TeamsService,
): UntypedServiceImplementation => ({
  PutTeam: unary<PutTeamRequest, PutTeamResponse>(
    authenticator,
    'teams:write',
    async (principal, request) => {
      const input = parseInput(putTeamSchema, request, 'body');
      const spec = parseInput(teamSpecBodySchema, parseJsonField(input.spec_json, 'spec_json'), 'body');
      const result = await teams.putTeam(principal, {
        teamId: input.team_id,
        spec,
        ...(input.idempotency_key === '' ? {} : { idempotencyKey: input.idempotency_key }),
      });
      return { team_id: result.teamId, version: result.version };
    },
  ),
  GetTeam: unary<GetTeamRequest, Team>(authenticator, 'teams:read', async (principal, request) => {
    const { team_id } = parseInput(getTeamSchema, request, 'body');
    const team = await teams.getTeam(principal, team_id);
    return {
      team_id: team.teamId,
      version: team.version,
      spec_hash: team.specHash,
      updated_at: team.updatedAt,
      spec_json: JSON.stringify(team.spec),
    };
  }),
});
