import { Body, Controller, Get, Headers, Inject, Param, Put } from '@nestjs/common';
import type { Principal } from '../auth/api-key.ts';
import { Authenticated, CallerPrincipal } from '../auth/api-key.guard.ts';
import { TEAMS_SERVICE } from '../gateway.tokens.ts';
import { mutationHeadersSchema } from '../http/headers.ts';
import { parseInput } from '../http/validation.ts';
import {
  teamPathSchema,
  teamSpecBodySchema,
  type PutTeamResponse,
  type TeamResponse,
} from './teams.schemas.ts';
import type { TeamsService } from './teams.service.ts';

@Controller('v1/teams')
export class TeamsHttpController {
  constructor(@Inject(TEAMS_SERVICE) private readonly teams: TeamsService) {}

  @Put(':teamId')
  @Authenticated('teams:write')
  async put(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
    @Headers() headers: unknown,
    @Body() body: unknown,
  ): Promise<PutTeamResponse> {
    const { teamId } = parseInput(teamPathSchema, params, 'path');
    const { 'idempotency-key': idempotencyKey } = parseInput(mutationHeadersSchema, headers, 'header');
    const spec = parseInput(teamSpecBodySchema, body, 'body');
    return this.teams.putTeam(principal, {
      teamId,
      spec,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
  }

  @Get(':teamId')
  @Authenticated('teams:read')
  async get(@CallerPrincipal() principal: Principal, @Param() params: unknown): Promise<TeamResponse> {
    const { teamId } = parseInput(teamPathSchema, params, 'path');
    return this.teams.getTeam(principal, teamId);
  }
}
