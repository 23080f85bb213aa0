import type { Timeline, TimelineEntry } from './timeline.ts';

const Entry = ({ entry }: { entry: TimelineEntry }) => (
  <div class={`entry kind-${entry.kind}${entry.failed === true ? ' failed' : ''}`} data-testid="entry">
    <div class="entry-title">{entry.title}</div>
    {entry.facts.filter((fact) => fact !== '').length > 0 && (
      <div class="facts">
        {entry.facts
          .filter((fact) => fact !== '')
          .map((fact) => (
            <span class="fact">{fact}</span>
          ))}
      </div>
    )}
    {entry.body !== undefined && entry.body !== '' && <pre>{entry.body}</pre>}
  </div>
);

const rowClass = (version: number, at: number, current: number): string =>
  `row${version > at ? ' future' : ''}${version === current ? ' current' : ''}`;

/** One column per lane, one row per entry; the slider's entry is marked, later ones are dimmed. */
export const TimelineGrid = ({ timeline, at }: { timeline: Timeline; at: number }) => {
  const current = Math.max(
    0,
    ...timeline.entries.map((entry) => entry.version).filter((version) => version <= at),
  );
  return (
    <section class="card timeline-card">
      <h2>Timeline</h2>
      <div class="timeline" style={{ '--lanes': String(timeline.lanes.length) }}>
        <div class="lane-head version">v</div>
        {timeline.lanes.map((lane) => (
          <div class="lane-head">{lane}</div>
        ))}
        {timeline.entries.map((entry) => (
          <div class={rowClass(entry.version, at, current)} data-version={entry.version}>
            <div class="version">{entry.version}</div>
            {timeline.lanes.map((lane) => (
              <div class="cell">{lane === entry.lane && <Entry entry={entry} />}</div>
            ))}
          </div>
        ))}
      </div>
    </section>
  );
};
