import { mutationHeadersSchema } from '../http/headers.ts';
import type { ApiOperation } from '../openapi/api-operation.ts';
import {
  putTeamResponseSchema,
  teamPathSchema,
  teamResponseSchema,
  teamSpecBodySchema,
} from './teams.schemas.ts';

export const teamOperations: readonly ApiOperation[] = [
  {
    method: 'put',
    path: '/v1/teams/{teamId}',
    operationId: 'putTeam',
    summary: 'Create or update a team spec (our JSON, or an AutoGen AgentChat component JSON)',
    tag: 'teams',
    scope: 'teams:write',
    params: teamPathSchema,
    headers: mutationHeadersSchema,
    body: teamSpecBodySchema,
    responses: {
      200: { description: 'Stored; an unchanged spec keeps its version', schema: putTeamResponseSchema },
      422: { description: 'The spec validates but names a component that cannot run' },
    },
  },
  {
    method: 'get',
    path: '/v1/teams/{teamId}',
    operationId: 'getTeam',
    summary: 'The team spec, its version and hash',
    tag: 'teams',
    scope: 'teams:read',
    params: teamPathSchema,
    responses: {
      200: { description: 'The team', schema: teamResponseSchema },
      404: { description: 'No such team' },
    },
  },
];
