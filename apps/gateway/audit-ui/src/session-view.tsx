import { useState } from 'preact/hooks';
import { getAudit, getEvents, getSession } from './api.ts';
import { StatePanel } from './state-panel.tsx';
import { TimelineGrid } from './timeline-grid.tsx';
import { buildTimeline } from './timeline.ts';
import { useLoad } from './use-load.ts';
import { Verdicts } from './verdicts.tsx';

type Props = { sessionId: string; onUnauthorized: () => void };

/** One session: the audit verdicts, a version slider with the state at that version, the timeline. */
export const SessionView = ({ sessionId, onUnauthorized }: Props) => {
  const loaded = useLoad(
    async () => {
      const [events, audit] = await Promise.all([getEvents(sessionId), getAudit(sessionId)]);
      return { timeline: buildTimeline(events), head: events.at(-1)?.version ?? 0, audit };
    },
    [sessionId],
    onUnauthorized,
  );
  const [at, setAt] = useState<number | null>(null);
  return (
    <>
      <nav class="crumbs">
        <a href="#/">← Sessions</a>
      </nav>
      <h1 class="session-title">
        Session <code>{sessionId}</code>
      </h1>
      {loaded.status === 'loading' && <p class="muted">Loading…</p>}
      {loaded.status === 'failed' && <p class="error">{loaded.message}</p>}
      {loaded.status === 'ready' && (
        <SessionDetail
          {...loaded.value}
          sessionId={sessionId}
          at={at ?? loaded.value.head}
          onAt={setAt}
          onUnauthorized={onUnauthorized}
        />
      )}
    </>
  );
};

type DetailProps = Props & {
  timeline: ReturnType<typeof buildTimeline>;
  head: number;
  audit: Awaited<ReturnType<typeof getAudit>>;
  at: number;
  onAt: (version: number) => void;
};

const SessionDetail = ({ sessionId, timeline, head, audit, at, onAt, onUnauthorized }: DetailProps) => {
  const state = useLoad(() => getSession(sessionId, at), [sessionId, at], onUnauthorized);
  return (
    <>
      <Verdicts audit={audit} />
      <section class="card slider-card">
        <label class="slider">
          <span>
            Version <strong data-testid="at-version">{at}</strong> of {head}
          </span>
          <input
            type="range"
            name="version"
            min={1}
            max={head}
            value={at}
            onInput={(event) => onAt(Number(event.currentTarget.value))}
          />
        </label>
        {state.status === 'failed' && <p class="error">{state.message}</p>}
        {state.status === 'ready' && <StatePanel state={state.value} />}
      </section>
      <TimelineGrid timeline={timeline} at={at} />
    </>
  );
};
