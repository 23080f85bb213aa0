import { hashApiKey, type Principal, type Scope } from './api-key.ts';
import type { ApiKeyStore } from './api-key-store.port.ts';
import type { TokenBuckets } from '@agentledger/sessions';
import { PermissionDenied, RateLimited, Unauthenticated } from '@agentledger/events';

export type Authenticator = Readonly<{
  /** The principal for an `Authorization` value (`Bearer <key>`), after the tenant's rate limit. */
  authenticate: (authorization: string | undefined, scope: Scope) => Promise<Principal>;
}>;

const BEARER = /^Bearer\s+(\S{1,512})\s*$/i;

/** The same check for REST (the `Authorization` header) and gRPC (the `authorization` metadata). */
export const createAuthenticator = (keys: ApiKeyStore, buckets: TokenBuckets): Authenticator => ({
  authenticate: async (authorization, scope) => {
    const key = BEARER.exec(authorization ?? '')?.[1];
    if (key === undefined) throw new Unauthenticated();
    const record = await keys.findByHash(hashApiKey(key));
    if (record === undefined) throw new Unauthenticated('Unknown API key');
    const admission = buckets.take(record.tenantId);
    if (!admission.allowed) throw new RateLimited(admission.retryAfterSeconds);
    if (!record.scopes.includes(scope)) throw new PermissionDenied(scope);
    return { tenantId: record.tenantId, keyId: record.keyId, scopes: record.scopes };
  },
});
