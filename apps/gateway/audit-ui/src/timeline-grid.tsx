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

/** One column per lane, one row per entry; entries after the slider's version are dimmed. */
export const TimelineGrid = ({ timeline, at }: { timeline: Timeline; at: number }) => (
  <section class="card timeline-card">
    <h2>Timeline</h2>
    <div class="timeline" style={{ '--lanes': String(timeline.lanes.length) }}>
      <div class="lane-head version">v</div>
      {timeline.lanes.map((lane) => (
        <div class="lane-head">{lane}</div>
      ))}
      {timeline.entries.map((entry) => (
        <div class={`row${entry.version > at ? ' future' : ''}`} data-version={entry.version}>
          <div class="version">{entry.version}</div>
          {timeline.lanes.map((lane) => (
            <div class="cell">{lane === entry.lane && <Entry entry={entry} />}</div>
          ))}
        </div>
      ))}
    </div>
  </section>
);
