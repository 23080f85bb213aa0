/** The prefix of every session stream id. */
export const SESSION_STREAM_PREFIX = 'session-';

/** What a session stream id names: the session, and its tenant when the id carries one. */
export type SessionStreamRef = Readonly<{
  /** Undefined for a stream created before migration 0010 (`session-<sessionId>`). */
  tenantId: string | undefined;
  sessionId: string;
}>;

/**
 * The stream id of a tenant's session: `session-<tenantId>/<sessionId>`. Neither id may contain a
 * `/` (both match `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`), so the first `/` always separates them
 * and no two (tenant, session) pairs share a stream. Sessions created before migration 0010 keep
 * their stream id `session-<sessionId>` (their hash chain covers it); the sessions read model
 * records each session's stream id.
 */
export const sessionStreamId = (tenantId: string, sessionId: string): string => {
  if (tenantId === '' || tenantId.includes('/')) throw new TypeError(`not a tenant id: ${tenantId}`);
  if (sessionId === '' || sessionId.includes('/')) throw new TypeError(`not a session id: ${sessionId}`);
  return `${SESSION_STREAM_PREFIX}${tenantId}/${sessionId}`;
};

/** The session a stream id names, or undefined when it is not a session stream. */
export const parseSessionStreamId = (streamId: string): SessionStreamRef | undefined => {
  if (!streamId.startsWith(SESSION_STREAM_PREFIX)) return undefined;
  const rest = streamId.slice(SESSION_STREAM_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return rest === '' ? undefined : { tenantId: undefined, sessionId: rest };
  const tenantId = rest.slice(0, slash);
  const sessionId = rest.slice(slash + 1);
  if (tenantId === '' || sessionId === '' || sessionId.includes('/')) return undefined;
  return { tenantId, sessionId };
};

/**
 * The bus key of a session stream: the stream id without its prefix, so `<tenantId>/<sessionId>`
 * (a stream created before migration 0010 keeps `<sessionId>`, as it keeps its stream id: every
 * event of a session always has one key, so its order holds). Other streams are keyed by their id.
 */
export const sessionKeyOf = (streamId: string): string =>
  parseSessionStreamId(streamId) === undefined ? streamId : streamId.slice(SESSION_STREAM_PREFIX.length);
