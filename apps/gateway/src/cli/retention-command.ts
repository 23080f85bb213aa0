import { parseArgs } from 'node:util';
import { runRetention, type RetentionDeps, type RetentionPolicies } from '@agentledger/sessions';
import { CLIENT_ID_PATTERN } from '../http/validation.ts';
import type { AuditCliOutput } from './audit-commands.ts';

/** What `retention run` works on: the store, the engine's close, and a way to let go of both. */
export type RetentionCliDeps = Pick<RetentionDeps, 'store' | 'closeSession'> &
  Readonly<{ close: () => Promise<void> }>;

export type RetentionCliOpener = (dataDir: string | undefined) => Promise<RetentionCliDeps>;

export const RETENTION_USAGE = `usage: agentledger retention run [--dry-run] [--tenant <tenantId>] [--data-dir <dir>]

Applies the operator's retention policies (AGENTLEDGER_RETENTION): closes sessions idle past
closeIdleAfterDays, deletes sessions closed for deleteClosedAfterDays (whole sessions, each leaving
a tombstone that verify --all reports), prunes idempotency keys older than idempotencyKeyHours and
attempt markers of finished tool calls. --dry-run changes nothing and reports what a run would do.
Progress on stderr; the report (JSON) on stdout.`;

/** `agentledger retention run [--dry-run] [--tenant T]`. `clock` is the run's "now". */
export const runRetentionCommand = async (
  argv: readonly string[],
  policies: RetentionPolicies,
  open: RetentionCliOpener,
  io: AuditCliOutput,
  clock: () => Date = () => new Date(),
): Promise<number> => {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        'dry-run': { type: 'boolean' },
        tenant: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean' },
      },
      allowPositionals: true,
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n${RETENTION_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.out(RETENTION_USAGE);
    return 0;
  }
  if (positionals[1] !== 'run' || positionals.length > 2) {
    io.err(`give the subcommand run\n${RETENTION_USAGE}`);
    return 2;
  }
  if (values.tenant !== undefined && !CLIENT_ID_PATTERN.test(values.tenant)) {
    io.err(`--tenant: a tenant id: ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$\n${RETENTION_USAGE}`);
    return 2;
  }
  const deps = await open(values['data-dir']);
  try {
    const report = await runRetention(
      {
        ...deps,
        policies,
        progress: (p) =>
          io.progress?.(
            `\r${p.tenantId}: ${p.examined} sessions examined, ${p.closed} closed, ${p.deleted} deleted`,
          ),
      },
      {
        now: clock(),
        dryRun: values['dry-run'] === true,
        ...(values.tenant === undefined ? {} : { tenantId: values.tenant }),
      },
    );
    io.progress?.('\n');
    const { totals, pruned } = report;
    io.err(
      `${report.dryRun ? 'dry run: would have ' : ''}closed ${totals.closed}, deleted ${totals.deleted} session(s) (${totals.events} events), pruned ${pruned.idempotencyKeys} idempotency key(s) and ${pruned.toolCallAttempts} tool-call attempt marker(s)`,
    );
    io.out(JSON.stringify(report));
    return 0;
  } finally {
    await deps.close();
  }
};
