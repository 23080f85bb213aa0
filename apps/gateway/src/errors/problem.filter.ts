import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.ts';

/**
 * The REST edge's only error mapping: every exception — ours, Nest's, Fastify's (body limit,
 * content type, bad JSON, unknown route) — leaves as RFC 9457 problem+json.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Gateway');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const problem = toProblem(exception, request.url.split('?')[0]);
    if (problem.status >= 500) {
      this.logger.error(`${request.method} ${request.url.split('?')[0]} failed`, (exception as Error)?.stack);
    }
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.end();
      return;
    }
    if (problem.retryAfterSeconds !== undefined)
      void reply.header('retry-after', String(problem.retryAfterSeconds));
    void reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
  }
}
