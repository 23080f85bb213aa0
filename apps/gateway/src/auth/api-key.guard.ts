import {
  applyDecorators,
  createParamDecorator,
  Inject,
  Injectable,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { withTraceparent, type Principal, type Scope } from './api-key.ts';
import type { Authenticator } from './authenticator.ts';
import { AUTHENTICATOR } from '../gateway.tokens.ts';
import { requestTraceparent } from '../http/request-spans.ts';

const SCOPE = Symbol('agentledger:scope');

type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(AUTHENTICATOR) private readonly authenticator: Authenticator,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const scope = this.reflector.get<Scope>(SCOPE, context.getHandler());
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.authenticator.authenticate(request.headers.authorization, scope);
    request.principal = withTraceparent(principal, requestTraceparent(request));
    return true;
  }
}

/** The route needs a valid API key with `scope`; its tenant's rate limit applies. */
export const Authenticated = (scope: Scope) =>
  applyDecorators(SetMetadata(SCOPE, scope), UseGuards(ApiKeyGuard));

/** The principal the guard attached to the request. */
export const CallerPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (principal === undefined) throw new Error('CallerPrincipal used on a route without @Authenticated');
  return principal;
});
