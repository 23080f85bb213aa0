import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Principal } from '../auth/api-key.ts';
import { Authenticated, CallerPrincipal } from '../auth/api-key.guard.ts';
import { SESSIONS_SERVICE } from '../gateway.tokens.ts';
import { mutationHeadersSchema } from '../http/headers.ts';
import { ValidationFailed } from '@agentledger/events';
import { parseInput } from '../http/validation.ts';
import {
  approvalBodySchema,
  approvalPathSchema,
  bundleBodySchema,
  cancelBodySchema,
  closeBodySchema,
  createSessionBodySchema,
  forkBodySchema,
  getSessionQuerySchema,
  listSessionsQuerySchema,
  postMessageBodySchema,
  postMessageQuerySchema,
  sessionPathSchema,
  type AuditReport,
  type ImportedSessionView,
  type MessageAccepted,
  type SessionList,
  type SessionStateView,
  type SessionSummary,
  type TurnResult,
} from './sessions.schemas.ts';
import type { SessionUseCases } from '@agentledger/sessions';

const keyOf = (headers: unknown): string | undefined =>
  parseInput(mutationHeadersSchema, headers, 'header')['idempotency-key'];

/** Thin: validate, call the one sessions service, answer. */
@Controller('v1/sessions')
export class SessionsHttpController {
  constructor(@Inject(SESSIONS_SERVICE) private readonly sessions: SessionUseCases) {}

  @Post()
  @HttpCode(201)
  @Authenticated('sessions:write')
  async create(
    @CallerPrincipal() principal: Principal,
    @Headers() headers: unknown,
    @Body() body: unknown,
  ): Promise<SessionSummary> {
    const key = keyOf(headers);
    const input = parseInput(createSessionBodySchema, body, 'body');
    return this.sessions.createSession(principal, input, key);
  }

  @Get()
  @Authenticated('sessions:read')
  async list(@CallerPrincipal() principal: Principal, @Query() query: unknown): Promise<SessionList> {
    return this.sessions.listSessions(principal, parseInput(listSessionsQuerySchema, query, 'query'));
  }

  @Get(':id')
  @Authenticated('sessions:read')
  async get(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
    @Query() query: unknown,
  ): Promise<SessionStateView> {
    const { id } = parseInput(sessionPathSchema, params, 'path');
    const { at } = parseInput(getSessionQuerySchema, query, 'query');
    return this.sessions.getSession(principal, id, at);
  }

  @Post(':id/messages')
  @Authenticated('sessions:write')
  async postMessage(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
    @Query() query: unknown,
    @Headers() headers: unknown,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MessageAccepted | TurnResult> {
    const { id } = parseInput(sessionPathSchema, params, 'path');
    const { wait } = parseInput(postMessageQuerySchema, query, 'query');
    const key = keyOf(headers);
    const { content } = parseInput(postMessageBodySchema, body, 'body');
    const result = await this.sessions.postMessage(
      principal,
      id,
      { content, ...(wait === undefined ? {} : { waitSeconds: wait }) },
      key,
    );
    void reply.status(result.outcome === 'completed' ? 200 : 202);
    return result.body;
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @Authenticated('sessions:write')
  async cancel(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
    @Headers() headers: unknown,
    @Body() body: unknown,
  ): Promise<SessionSummary> {
    const { id } = parseInput(sessionPathSchema, params, 'path');
    const key = keyOf(headers);
    const input = parseInput(cancelBodySchema, body, 'body');
    return this.sessions.cancel(principal, id, input?.reason, key);
  }

  @Post(':id/close')
  @HttpCode(200)
  @Authenticated('sessions:write')
  async close(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
    @Headers() headers: unknown,
    @Body() body: unknown,
  ): Promise<SessionSummary> {
    const { id } = parseInput(sessionPathSchema, params, 'path');
    const key = keyOf(headers);
    const input = parseInput(closeBodySchema, body, 'body');
    return this.sessions.close(principal, id, input?.reason, key);
  }

  @Post(':id/approvals/:toolCallId')
  @HttpCode(202)
  @Authenticated('sessions:write')
  async approve(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
    @Headers() headers: unknown,
    @Body() body: unknown,
  ): Promise<SessionSummary> {
    const { id, toolCallId } = parseInput(approvalPathSchema, params, 'path');
    const key = keyOf(headers);
    const input = parseInput(approvalBodySchema, body, 'body');
    return this.sessions.approve(principal, id, toolCallId, input, key);
  }

  @Post(':id/fork')
  @HttpCode(201)
  @Authenticated('sessions:write')
  async fork(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
    @Headers() headers: unknown,
    @Body() body: unknown,
  ): Promise<SessionSummary> {
    const { id } = parseInput(sessionPathSchema, params, 'path');
    const key = keyOf(headers);
    const input = parseInput(forkBodySchema, body, 'body');
    return this.sessions.fork(principal, id, input, key);
  }

  @Get(':id/export')
  @Authenticated('sessions:read')
  async export(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const { id } = parseInput(sessionPathSchema, params, 'path');
    const bundle = await this.sessions.exportBundle(principal, id);
    void reply.type('application/x-ndjson; charset=utf-8');
    return bundle;
  }

  @Get(':id/audit')
  @Authenticated('sessions:read')
  async audit(@CallerPrincipal() principal: Principal, @Param() params: unknown): Promise<AuditReport> {
    const { id } = parseInput(sessionPathSchema, params, 'path');
    return this.sessions.audit(principal, id);
  }
}

/** `POST /v1/sessions:import` (a literal colon: `::` in the router's syntax). */
@Controller()
export class SessionImportHttpController {
  constructor(@Inject(SESSIONS_SERVICE) private readonly sessions: SessionUseCases) {}

  @Post('v1/sessions::import')
  @HttpCode(201)
  @Authenticated('sessions:write')
  async import(@CallerPrincipal() principal: Principal, @Body() body: unknown): Promise<ImportedSessionView> {
    if (typeof body !== 'string') {
      const message = 'send the bundle as application/x-ndjson';
      throw new ValidationFailed([{ in: 'body', field: '(body)', message }]);
    }
    return this.sessions.importBundle(principal, parseInput(bundleBodySchema, body, 'body'));
  }
}
