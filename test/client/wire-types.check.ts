/**
 * Compile-time check (`npm run typecheck`): the client's response types have exactly the fields of
 * the gateway's response schemas, and every answer the gateway can send fits them. A field added,
 * renamed or retyped on either side fails the type check. (The operations themselves are compared
 * with the OpenAPI document in openapi-conformance.unit.spec.ts.)
 */
import type { z } from 'zod';
import type * as Client from '@agentledger/client';
import type * as Sessions from '../../apps/gateway/src/sessions/sessions.schemas.ts';
import type * as Teams from '../../apps/gateway/src/teams/teams.schemas.ts';

type Fits<Server, Wire> = [Server] extends [Wire]
  ? [keyof Server] extends [keyof Wire]
    ? [keyof Wire] extends [keyof Server]
      ? true
      : { missingOnServer: Exclude<keyof Wire, keyof Server> }
    : { missingInClient: Exclude<keyof Server, keyof Wire> }
  : { doesNotFit: Server };

type Out<S extends z.ZodType> = z.output<S>;

export const wireTypesMatch: Readonly<Record<string, true>> = {
  putTeam: true satisfies Fits<Out<typeof Teams.putTeamResponseSchema>, Client.PutTeamResult>,
  team: true satisfies Fits<Out<typeof Teams.teamResponseSchema>, Client.Team>,
  summary: true satisfies Fits<Out<typeof Sessions.sessionSummarySchema>, Client.SessionSummary>,
  accepted: true satisfies Fits<Out<typeof Sessions.messageAcceptedSchema>, Client.MessageAccepted>,
  turn: true satisfies Fits<Out<typeof Sessions.turnResultSchema>, Client.TurnResult>,
  message: true satisfies Fits<Out<typeof Sessions.messageViewSchema>, Client.MessageView>,
  state: true satisfies Fits<Out<typeof Sessions.sessionStateSchema>, Client.SessionState>,
  pending: true satisfies Fits<
    Out<typeof Sessions.sessionStateSchema>['pending'],
    Client.SessionState['pending']
  >,
  list: true satisfies Fits<Out<typeof Sessions.sessionListSchema>, Client.SessionList>,
  envelope: true satisfies Fits<Out<typeof Sessions.eventEnvelopeSchema>, Client.EventEnvelope>,
  page: true satisfies Fits<Out<typeof Sessions.eventPageSchema>, Client.EventPage>,
  audit: true satisfies Fits<Out<typeof Sessions.auditSchema>, Client.AuditReport>,
  imported: true satisfies Fits<Out<typeof Sessions.importedSessionSchema>, Client.ImportedSession>,
  imports: true satisfies Fits<
    Out<typeof Sessions.importedSessionSchema>['checkpoints'],
    Client.ImportedSession['checkpoints']
  >,
};
