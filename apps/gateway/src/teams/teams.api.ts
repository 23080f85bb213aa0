import { teamSpecSchema } from '@agentledger/agents';
import { z } from 'zod';
import { mutationHeadersSchema } from '../http/headers.ts';
import type { ApiOperation } from '../openapi/api-operation.ts';
import { putTeamResponseSchema, teamPathSchema, teamResponseSchema } from './teams.schemas.ts';

/**
 * What PUT accepts, as documented: libs/agents' team spec schema (the parser validates with it), or
 * an AutoGen AgentChat component, which is translated.
 */
const teamSpecDocumentation = z.union([
  teamSpecSchema,
  z.looseObject({ provider: z.string(), component_type: z.string(), config: z.looseObject({}) }).meta({
    description: 'An AutoGen AgentChat component (provider / component_type / config)',
  }),
]);

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
    body: teamSpecDocumentation,
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
