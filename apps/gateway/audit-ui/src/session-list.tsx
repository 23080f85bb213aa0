import { useState } from 'preact/hooks';
import { listSessions, SESSION_STATUSES, type SessionStatus } from './api.ts';
import { useLoad } from './use-load.ts';

/**
 * The tenant's sessions, a page at a time (the API's cursor; oldest first). Status, team and the
 * creation days (UTC: on or after `since`, before `before`) all filter on the server.
 */
export const SessionList = ({ onUnauthorized }: { onUnauthorized: () => void }) => {
  const [status, setStatus] = useState<SessionStatus | ''>('');
  const [teamId, setTeamId] = useState('');
  const [since, setSince] = useState('');
  const [before, setBefore] = useState('');
  const [cursors, setCursors] = useState<readonly (string | null)[]>([null]);
  const cursor = cursors.at(-1) ?? null;
  const page = useLoad(
    () => listSessions({ status, teamId, since, before, cursor }),
    [status, teamId, since, before, cursor],
    onUnauthorized,
  );
  const restart =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      set(value);
      setCursors([null]);
    };
  return (
    <section class="card">
      <h1>Sessions</h1>
      <div class="filters">
        <label>
          Status
          <select
            name="status"
            value={status}
            onChange={(e) => restart(setStatus)(e.currentTarget.value as SessionStatus | '')}
          >
            <option value="">any</option>
            {SESSION_STATUSES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Team
          <input name="team" value={teamId} onChange={(e) => restart(setTeamId)(e.currentTarget.value)} />
        </label>
        <label>
          Created on or after
          <input
            name="since"
            type="date"
            value={since}
            onChange={(e) => restart(setSince)(e.currentTarget.value)}
          />
        </label>
        <label>
          Created before
          <input
            name="before"
            type="date"
            value={before}
            onChange={(e) => restart(setBefore)(e.currentTarget.value)}
          />
        </label>
      </div>
      {page.status === 'loading' && <p class="muted">Loading…</p>}
      {page.status === 'failed' && <p class="error">{page.message}</p>}
      {page.status === 'ready' && (
        <>
          <table class="sessions">
            <thead>
              <tr>
                <th>Session</th>
                <th>Team</th>
                <th>Status</th>
                <th>Version</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {page.value.items.map((item) => (
                <tr key={item.sessionId}>
                  <td>
                    <a href={`#/sessions/${encodeURIComponent(item.sessionId)}`}>{item.sessionId}</a>
                  </td>
                  <td>{item.teamId}</td>
                  <td>
                    <span class={`status status-${item.status}`}>{item.status}</span>
                  </td>
                  <td>{item.version}</td>
                  <td>{item.createdAt.replace('T', ' ').slice(0, 19)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.value.items.length === 0 && <p class="muted">No sessions match.</p>}
          <div class="pager">
            <button
              type="button"
              disabled={cursors.length < 2}
              onClick={() => setCursors(cursors.slice(0, -1))}
            >
              ← Previous
            </button>
            <button
              type="button"
              disabled={page.value.nextCursor === null}
              onClick={() => setCursors([...cursors, page.value.nextCursor])}
            >
              Next →
            </button>
          </div>
        </>
      )}
    </section>
  );
};
