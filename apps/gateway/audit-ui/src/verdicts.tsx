import type { AuditReport } from './api.ts';

type Verdict = { label: string; value: string; tone: 'ok' | 'bad' | 'unknown' };

const at = (version: number | null | undefined): string =>
  typeof version === 'number' ? ` at version ${version}` : '';

const checkpoints = ({ checkpoints: value }: AuditReport): Verdict => {
  if (!value.enabled) return { label: 'Checkpoints', value: 'off (no signing key)', tone: 'unknown' };
  const [problem] = value.problems;
  if (!value.valid && problem)
    return { label: 'Checkpoints', value: `${problem.reason}${at(problem.version)}`, tone: 'bad' };
  const last = value.lastVerified === null ? 'none verified yet' : `last verified ${value.lastVerified}`;
  return { label: 'Checkpoints', value: `${value.signed} signed, ${last}`, tone: 'ok' };
};

/** The verdicts of `GET …/audit`: hash chain, decision replay, signed checkpoints. */
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
