import { createSessionContext, type SessionsServiceDeps } from './session-context.ts';
import { sessionBundleUseCases } from './session-bundles.ts';
import { sessionCommandUseCases } from './session-commands.ts';
import { sessionQueryUseCases } from './session-queries.ts';
import { startSessionUseCases } from './start-session.ts';

export type { SessionsServiceDeps } from './session-context.ts';
export type { PostMessageResult } from './session-commands.ts';
export type { EventPage } from './session-queries.ts';

/**
 * The one application service behind the REST and gRPC session endpoints: commands go through
 * libs/sessions' engine (fold, decide, append with the idempotency key), reads through the
 * store and the sessions read model, always scoped by the caller's tenant.
 */
export const createSessionsService = (deps: SessionsServiceDeps) => {
  const context = createSessionContext(deps);
  return Object.freeze({
    ...startSessionUseCases(context),
    ...sessionCommandUseCases(context),
    ...sessionQueryUseCases(context),
    ...sessionBundleUseCases(context),
  });
};

export type SessionsService = ReturnType<typeof createSessionsService>;
