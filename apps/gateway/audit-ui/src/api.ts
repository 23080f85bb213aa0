/** The gateway's REST API as the audit page uses it: read-only calls with the tab's API key. */

// The wire types are the client package's (one copy); a type-only import, erased by the build.
import type {
  AuditReport,
  SessionList,
  SessionState,
  SessionStatus,
} from '../../../../libs/client/src/types.ts';

export type { AuditReport, SessionList, SessionState, SessionStatus };

const KEY_ITEM = 'agentledger.audit.apiKey';

/** The key lives in this tab only (sessionStorage): never localStorage, never a cookie. */
export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY_ITEM),
  set: (key: string): void => sessionStorage.setItem(KEY_ITEM, key),
  clear: (): void => sessionStorage.removeItem(KEY_ITEM),
};

export const SESSION_STATUSES: readonly SessionStatus[] = [
  'idle',
  'running',
  'awaiting_input',
  'awaiting_approval',
  'stalled',
  'failed',
  'closed',
];

export type SessionListItem = SessionList['items'][number];

export type StoredEvent = Readonly<{
  version: number;
  type: string;
  data: Readonly<Record<string, unknown>>;
  recordedAt: string;
  hash: string;
}>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const get = async <T>(path: string): Promise<T> => {
  const response = await fetch(path, {
    headers: { authorization: `Bearer ${apiKey.get() ?? ''}`, accept: 'application/json' },
  });
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as { title?: string; detail?: string };
    throw new ApiError(response.status, problem.detail ?? problem.title ?? `HTTP ${response.status}`);
  }
  return (await response.json()) as T;
};

/** `since` and `before` are days (YYYY-MM-DD, UTC), or '' for no bound. */
export type ListFilters = Readonly<{
  status: SessionStatus | '';
  teamId: string;
  since: string;
  before: string;
  cursor: string | null;
}>;

export const listSessions = ({
  status,
  teamId,
  since,
  before,
  cursor,
}: ListFilters): Promise<SessionList> => {
  const query = new URLSearchParams({ limit: '25' });
  if (status !== '') query.set('status', status);
  if (teamId.trim() !== '') query.set('teamId', teamId.trim());
  if (since !== '') query.set('createdAfter', since);
  if (before !== '') query.set('createdBefore', before);
  if (cursor !== null) query.set('cursor', cursor);
  return get(`/v1/sessions?${query.toString()}`);
};

const sessionPath = (sessionId: string): string => `/v1/sessions/${encodeURIComponent(sessionId)}`;

export const getSession = (sessionId: string, at?: number): Promise<SessionState> =>
  get(`${sessionPath(sessionId)}${at === undefined ? '' : `?at=${at}`}`);

export const getAudit = (sessionId: string): Promise<AuditReport> => get(`${sessionPath(sessionId)}/audit`);

/** Every event of the session, page by page. */
export const getEvents = async (sessionId: string): Promise<StoredEvent[]> => {
  const events: StoredEvent[] = [];
  let after: number | null = 0;
  while (after !== null) {
    const page: { events: StoredEvent[]; nextAfter: number | null } = await get(
      `${sessionPath(sessionId)}/events?after=${after}&limit=1000`,
    );
    events.push(...page.events);
    after = page.nextAfter;
  }
  return events;
};
