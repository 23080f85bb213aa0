import { sessionBundlesUseCase } from './bundles/index.ts';
import { cancelTurnUseCase } from './cancel-turn/index.ts';
import { closeSessionUseCase } from './close-session/index.ts';
import { decideApprovalUseCase } from './decide-approval/index.ts';
import { forkSessionUseCase } from './fork-session/index.ts';
import { postMessageUseCase } from './post-message/index.ts';
import { sessionQueriesUseCase } from './queries/index.ts';
import { createSessionContext, type SessionUseCaseDeps } from './session-context/index.ts';
import { startSessionUseCase } from './start-session/index.ts';

/**
 * Every session use case over one set of ports, as the edges call them (REST, gRPC): commands go
 * through the engine (fold, decide, append with the idempotency key), reads through the store and
 * the sessions read model, always scoped by the caller's tenant. They throw library errors
 * (`@agentledger/events`' taxonomy); each edge maps those in one place.
 */
export const createSessionUseCases = (deps: SessionUseCaseDeps) => {
  const context = createSessionContext(deps);
  return Object.freeze({
    ...startSessionUseCase(context),
    ...forkSessionUseCase(context),
    ...postMessageUseCase(context),
    ...cancelTurnUseCase(context),
    ...closeSessionUseCase(context),
    ...decideApprovalUseCase(context),
    ...sessionQueriesUseCase(context),
    ...sessionBundlesUseCase(context),
  });
};

export type SessionUseCases = ReturnType<typeof createSessionUseCases>;
