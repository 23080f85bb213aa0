import { createHash, randomBytes } from 'node:crypto';

/** What a key may do. A key created without scopes gets all of them. */
export const SCOPES = [
  'sessions:read',
  'sessions:write',
  'teams:read',
  'teams:write',
  'webhooks:read',
  'webhooks:write',
] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * The authenticated caller of a request: every query is scoped by its tenant. `traceparent` (W3C
 * trace context, when the request carried a valid one) travels into the events it causes.
 */
export type Principal = Readonly<{
  tenantId: string;
  keyId: string;
  scopes: readonly Scope[];
  traceparent?: string;
}>;

const TRACEPARENT = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The principal with the request's `traceparent`, if valid (an invalid one is ignored, as W3C says). */
export const withTraceparent = (principal: Principal, traceparent: unknown): Principal =>
  typeof traceparent === 'string' && TRACEPARENT.test(traceparent)
    ? { ...principal, traceparent }
    : principal;

/** A stored key: only its SHA-256 hash, never the key itself. */
export type ApiKeyRecord = Readonly<{
  keyId: string;
  tenantId: string;
  scopes: readonly Scope[];
  keyHash: string;
  createdAt: Date;
}>;

export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** A fresh key `al_<keyId>_<secret>` (256 random bits) and the record to store for it. */
export const generateApiKey = (
  tenantId: string,
  now: Date,
  scopes: readonly Scope[] = SCOPES,
): Readonly<{ key: string; record: ApiKeyRecord }> => {
  const keyId = randomBytes(6).toString('hex');
  const key = `al_${keyId}_${randomBytes(32).toString('base64url')}`;
  return { key, record: { keyId, tenantId, scopes, keyHash: hashApiKey(key), createdAt: now } };
};

/** The record for a key given in configuration (development and tests); its id is derived from it. */
export const seededApiKey = (tenantId: string, key: string, now: Date): ApiKeyRecord => {
  const keyHash = hashApiKey(key);
  return { keyId: `seed-${keyHash.slice(0, 12)}`, tenantId, scopes: SCOPES, keyHash, createdAt: now };
};
