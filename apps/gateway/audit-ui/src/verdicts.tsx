import type { AuditReport } from './api.ts';

type Verdict = { label: string; value: string; tone: 'ok' | 'bad' | 'unknown' };

const at = (version: number | null | undefined): string =>
  typeof version === 'number' ? ` at version ${version}` : '';

const checkpoints = (report: AuditReport): Verdict => {
  const value = report.checkpoints;
  if (value === undefined)
    return { label: 'Checkpoints', value: 'not reported by this gateway', tone: 'unknown' };
  if (value === null || !value.signed)
    return { label: 'Checkpoints', value: 'off (no signing key)', tone: 'unknown' };
  const last =
    value.lastVerified === undefined || value.lastVerified === null
      ? 'none verified'
      : `last verified ${value.lastVerified}`;
  return { label: 'Checkpoints', value: `${String(value.signed)} signed, ${last}`, tone: 'ok' };
};

/** The verdicts `GET …/audit` gives today; fields a gateway does not report yet show as such. */
export const verdictsOf = (report: AuditReport): Verdict[] => [
  report.hashChainValid
    ? { label: 'Hash chain', value: 'valid', tone: 'ok' }
    : { label: 'Hash chain', value: `broken${at(report.firstBrokenVersion)}`, tone: 'bad' },
  report.replayMatches
    ? { label: 'Replay', value: 'matches the recorded state', tone: 'ok' }
    : { label: 'Replay', value: `diverges${at(report.firstDivergentVersion)}`, tone: 'bad' },
  checkpoints(report),
  { label: 'Events', value: String(report.eventCount), tone: 'unknown' },
];

export const Verdicts = ({ audit }: { audit: AuditReport }) => (
  <section class="card verdicts" aria-label="Audit verdicts">
    {verdictsOf(audit).map((verdict) => (
      <div class={`verdict tone-${verdict.tone}`} data-testid={`verdict-${verdict.label}`}>
        <span class="verdict-label">{verdict.label}</span>
        <span class="verdict-value">{verdict.value}</span>
      </div>
    ))}
    <div class="verdict head-hash">
      <span class="verdict-label">Head hash</span>
      <code title={audit.headHash}>{audit.headHash.slice(0, 23)}…</code>
    </div>
  </section>
);
