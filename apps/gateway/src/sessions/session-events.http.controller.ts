import { Readable } from 'node:stream';
import { Controller, Get, Headers, Inject, Logger, Param, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { EventEnvelope, SessionDelta } from '@agentledger/events';
import type { Principal } from '../auth/api-key.ts';
import { Authenticated, CallerPrincipal } from '../auth/api-key.guard.ts';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY, SESSIONS_SERVICE } from '../gateway.tokens.ts';
import { streamsOpen } from '../grpc/grpc-metrics.ts';
import { parseInput } from '../http/validation.ts';
import {
  listEventsQuerySchema,
  sessionPathSchema,
  streamHeadersSchema,
  streamQuerySchema,
} from './sessions.schemas.ts';
import type { SessionUseCases } from '@agentledger/sessions';

const NDJSON = 'application/x-ndjson';
const KEEP_ALIVE_MS = 15_000;

/** One SSE frame per event: `id` is the stream version, so `Last-Event-ID` resumes exactly. */
export const sseFrame = (event: EventEnvelope): string =>
  `id: ${event.version}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

/**
 * A model-output delta: no `id`, so a reconnect's `Last-Event-ID` stays the last event's version
 * (deltas are not replayed; the event that records the call is).
 */
export const sseDeltaFrame = (delta: SessionDelta): string =>
  `event: delta\ndata: ${JSON.stringify(delta)}\n\n`;

@Controller('v1/sessions')
export class SessionEventsHttpController {
  private readonly logger = new Logger('Gateway');

  private readonly open: ReturnType<typeof streamsOpen>;

  constructor(
    @Inject(SESSIONS_SERVICE) private readonly sessions: SessionUseCases,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.open = streamsOpen(registry);
  }

  /** A page of events; with `Accept: application/x-ndjson`, all of them as one line each. */
  @Get(':id/events')
  @Authenticated('sessions:read')
  async events(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
    @Query() query: unknown,
    @Headers('accept') accept: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { id } = parseInput(sessionPathSchema, params, 'path');
    const page = parseInput(listEventsQuerySchema, query, 'query');
    const first = await this.sessions.listEvents(principal, id, page);
    if (!(accept ?? '').includes(NDJSON)) {
      await reply.send(first);
      return;
    }
    const sessions = this.sessions;
    async function* lines(): AsyncGenerator<string> {
      let current = first;
      for (;;) {
        for (const event of current.events) yield `${JSON.stringify(event)}\n`;
        if (current.nextAfter === null) return;
        current = await sessions.listEvents(principal, id, { after: current.nextAfter, limit: page.limit });
      }
    }
    await reply.type(NDJSON).send(Readable.from(lines()));
  }

  /** SSE: the events after `Last-Event-ID` (or `?after`), then live ones, with model output as it streams. */
  @Get(':id/stream')
  @Authenticated('sessions:read')
  async stream(
    @CallerPrincipal() principal: Principal,
    @Param() params: unknown,
    @Query() query: unknown,
    @Headers() headers: unknown,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { id } = parseInput(sessionPathSchema, params, 'path');
    const { after } = parseInput(streamQuerySchema, query, 'query');
    const { 'last-event-id': lastEventId } = parseInput(streamHeadersSchema, headers, 'header');
    const abort = new AbortController();
    const items = await this.sessions.streamSession(principal, id, lastEventId ?? after ?? 0, abort.signal);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write('retry: 1000\n: stream open\n\n');
    const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    raw.on('close', () => abort.abort());
    const pump = async (): Promise<void> => {
      this.open.inc({ transport: 'sse' });
      try {
        for await (const item of items)
          raw.write(item.kind === 'event' ? sseFrame(item.event) : sseDeltaFrame(item.delta));
      } catch (error) {
        this.logger.error(`SSE stream of session ${id} failed`, (error as Error).stack);
      } finally {
        clearInterval(keepAlive);
        this.open.dec({ transport: 'sse' });
        // The client left or the server stops: the connection goes too (it cannot be reused).
        raw.end();
        raw.socket?.destroySoon();
      }
    };
    void pump();
  }
}
