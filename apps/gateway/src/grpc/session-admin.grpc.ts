import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { z } from 'zod';
import type { Authenticator } from '../auth/authenticator.ts';
import { clientId, idempotencyKey, parseInput } from '../http/validation.ts';
import { listSessionsQuerySchema } from '../sessions/sessions.schemas.ts';
import type { SessionUseCases } from '@agentledger/sessions';
import { unary } from './grpc-handlers.ts';
import { keyOf, toSummary, type Summary } from './session-messages.grpc.ts';

type CloseRequest = { session_id: string; reason: string; idempotency_key: string };
type ForkRequest = {
  session_id: string;
  at_version: string;
  new_session_id: string;
  idempotency_key: string;
};
type ListSessionsRequest = {
  status: string;
  team_id: string;
  limit: number;
  cursor: string;
  created_after: string;
  created_before: string;
};
type SessionItem = {
  session_id: string;
  team_id: string;
  status: string;
  version: number;
  created_at: string;
};
type ListSessionsResponse = { items: SessionItem[]; next_cursor?: string };
type AuditResponse = {
  event_count: number;
  head_hash: string;
  hash_chain_valid: boolean;
  replay_matches: boolean;
  first_broken_version?: number;
  first_divergent_version?: number;
  checkpoints: {
    enabled: boolean;
    signed: number;
    last_verified?: number;
    valid: boolean;
    problems: { version: number; reason: string; message: string }[];
  };
  spec_hash?: string;
  models: string[];
  tokens: { prompt: number; completion: number; total: number };
};

const optionalKey = z.union([z.literal(''), idempotencyKey]);
const closeSchema = z.object({
  session_id: clientId,
  reason: z.string().max(1000),
  idempotency_key: optionalKey,
});
const forkSchema = z.object({
  session_id: clientId,
  at_version: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  new_session_id: z.union([z.literal(''), clientId]),
  idempotency_key: optionalKey,
});
/** The REST list query's rules under the proto's field names (so a problem names `created_after`). */
const { status, teamId, createdAfter, createdBefore, limit, cursor } = listSessionsQuerySchema.shape;
const listSchema = z.object({
  status,
  team_id: teamId,
  created_after: createdAfter,
  created_before: createdBefore,
  limit,
  cursor,
});
/** Proto3 defaults (empty, 0) mean "not given". */
const toListQuery = (request: Partial<ListSessionsRequest>) => {
  const given = Object.fromEntries(
    Object.entries(request).filter(([, value]) => value !== '' && value !== 0),
  );
  const input = parseInput(listSchema, given, 'body');
  return {
    limit: input.limit,
    ...(input.status === undefined ? {} : { status: input.status }),
    ...(input.team_id === undefined ? {} : { teamId: input.team_id }),
    ...(input.created_after === undefined ? {} : { createdAfter: input.created_after }),
    ...(input.created_before === undefined ? {} : { createdBefore: input.created_before }),
    ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
  };
};
const auditSchema = z.object({ session_id: clientId });
const bundleSchema = z.object({ ndjson: z.string().min(1) });
type ImportResponse = {
  tenant_id: string;
  session_id: string;
  stream_id: string;
  event_count: number;
  head_hash: string;
  source_head_hash: string;
  rehashed: boolean;
  duplicate: boolean;
  checkpoints_imported: number;
  checkpoints_unverified: number;
};

/** CloseSession, ForkSession, ListSessions, AuditSession, ExportSession and ImportSession: REST parity beyond docs/architecture.md's minimum rpcs. */
export const sessionAdminGrpcHandlers = (
  authenticator: Authenticator,
  sessions: SessionUseCases,
): UntypedServiceImplementation => ({
  CloseSession: unary<CloseRequest, Summary>(authenticator, 'sessions:write', async (principal, request) => {
    const input = parseInput(closeSchema, request, 'body');
    const reason = input.reason === '' ? undefined : input.reason;
    return toSummary(await sessions.close(principal, input.session_id, reason, keyOf(input.idempotency_key)));
  }),
  ForkSession: unary<ForkRequest, Summary>(authenticator, 'sessions:write', async (principal, request) => {
    const input = parseInput(forkSchema, request, 'body');
    const fork = {
      atVersion: input.at_version,
      ...(input.new_session_id === '' ? {} : { sessionId: input.new_session_id }),
    };
    return toSummary(await sessions.fork(principal, input.session_id, fork, keyOf(input.idempotency_key)));
  }),
  ListSessions: unary<ListSessionsRequest, ListSessionsResponse>(
    authenticator,
    'sessions:read',
    async (principal, request) => {
      const page = await sessions.listSessions(principal, toListQuery(request));
      return {
        items: page.items.map((item) => ({
          session_id: item.sessionId,
          team_id: item.teamId,
          status: item.status,
          version: item.version,
          created_at: item.createdAt,
        })),
        ...(page.nextCursor === null ? {} : { next_cursor: page.nextCursor }),
      };
    },
  ),
  AuditSession: unary<{ session_id: string }, AuditResponse>(
    authenticator,
    'sessions:read',
    async (principal, request) => {
      const report = await sessions.audit(principal, parseInput(auditSchema, request, 'body').session_id);
      return {
        event_count: report.eventCount,
        head_hash: report.headHash,
        hash_chain_valid: report.hashChainValid,
        replay_matches: report.replayMatches,
        ...(report.firstBrokenVersion === null ? {} : { first_broken_version: report.firstBrokenVersion }),
        ...(report.firstDivergentVersion === null
          ? {}
          : { first_divergent_version: report.firstDivergentVersion }),
        checkpoints: {
          enabled: report.checkpoints.enabled,
          signed: report.checkpoints.signed,
          ...(report.checkpoints.lastVerified === null
            ? {}
            : { last_verified: report.checkpoints.lastVerified }),
          valid: report.checkpoints.valid,
          problems: report.checkpoints.problems,
        },
        ...(report.specHash === null ? {} : { spec_hash: report.specHash }),
        models: report.models,
        tokens: report.tokens,
      };
    },
  ),
  ExportSession: unary<{ session_id: string }, { ndjson: string }>(
    authenticator,
    'sessions:read',
    async (principal, request) => ({
      ndjson: await sessions.exportBundle(principal, parseInput(auditSchema, request, 'body').session_id),
    }),
  ),
  ImportSession: unary<{ ndjson: string }, ImportResponse>(
    authenticator,
    'sessions:write',
    async (principal, request) => {
      const imported = await sessions.importBundle(
        principal,
        parseInput(bundleSchema, request, 'body').ndjson,
      );
      return {
        tenant_id: imported.tenantId,
        session_id: imported.sessionId,
        stream_id: imported.streamId,
        event_count: imported.eventCount,
        head_hash: imported.headHash,
        source_head_hash: imported.sourceHeadHash,
        rehashed: imported.rehashed,
        duplicate: imported.duplicate,
        checkpoints_imported: imported.checkpoints.imported,
        checkpoints_unverified: imported.checkpoints.unverified,
      };
    },
  ),
});
