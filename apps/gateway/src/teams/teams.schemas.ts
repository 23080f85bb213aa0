import { z } from 'zod';
import { clientId } from '../http/validation.ts';

export const teamPathSchema = z.object({ teamId: clientId });

/** The body of PUT /v1/teams/{teamId}: a JSON object, checked in depth by the team spec parser. */
export const teamSpecBodySchema = z
  .looseObject({})
  .meta({ description: 'A team spec (specVersion 1) or an AutoGen AgentChat component JSON' });

export const putTeamResponseSchema = z.object({ teamId: z.string(), version: z.int().min(1) });

export const teamResponseSchema = z.object({
  teamId: z.string(),
  version: z.int().min(1),
  specHash: z.string().meta({ description: 'SHA-256 of the canonical JSON of the spec' }),
  updatedAt: z.string(),
  spec: z.looseObject({}),
});

export type PutTeamResponse = z.output<typeof putTeamResponseSchema>;
export type TeamResponse = z.output<typeof teamResponseSchema>;
