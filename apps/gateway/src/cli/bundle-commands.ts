import {
  BundleRejected,
  importSessionBundle,
  exportSessionBundle,
  type ImportSessionDeps,
  type SessionEngine,
} from '@agentledger/sessions';
import { StreamTenantMismatch, StreamVersionConflict } from '@agentledger/events';
import { CLIENT_ID_PATTERN } from '../http/validation.ts';
import { fail, parse, str, tenantProblem, type AuditCliDeps } from './audit-commands.ts';
import type { CliOutput } from './keys-command.ts';

/** What export, import and fork need beyond the audit commands: the session engine and the spec check. */
export type SessionCliDeps = AuditCliDeps &
  Readonly<{
    engine: Pick<SessionEngine, 'importStream' | 'handle' | 'load'>;
    /** The operator's team spec check (AGENTLEDGER_MODEL_ENDPOINTS, TOOLS_MODULE), as PUT /v1/teams runs it. */
    checkSpec: ImportSessionDeps['checkSpec'];
  }>;

export type SessionCliOpener = (dataDir: string | undefined) => Promise<SessionCliDeps>;

/** Bundles go to stdout as they are (no added newline); input comes from stdin or a file. */
export type BundleCliIo = CliOutput &
  Readonly<{ write: (text: string) => void; readInput: (path: string | undefined) => Promise<string> }>;

export const EXPORT_USAGE = `usage: agentledger export <session> --tenant <tenantId> [--data-dir <dir>] > bundle.ndjson

Writes the session's audit bundle to stdout: a manifest line (tenant, session, team spec, event
count, head hash, signed checkpoints and their key id), then one event envelope a line with its
hashes. The format is docs/operations.md's "Export and import".`;

export const IMPORT_USAGE = `usage: agentledger import [<file>] [--tenant <tenantId>] [--json] [--data-dir <dir>] < bundle.ndjson

Verifies a bundle (hash chain to the manifest's head, spec, checkpoints and, with
AGENTLEDGER_AUDIT_SIGNING_KEY or AGENTLEDGER_AUDIT_PUBLIC_KEY of the same key id, their signatures)
and stores the session with the same hashes. --tenant maps it into another tenant (tenant, stream
and event ids change, so the chain is recomputed). Never overwrites a session; the same bundle
twice is a no-op. Exit 1 names what failed (the version for events); 2 is bad usage.`;

const dataDirOf = (values: Record<string, unknown>): string | undefined =>
  typeof values['data-dir'] === 'string' ? values['data-dir'] : undefined;

/** `agentledger export <session> --tenant T`. */
export const runExportCommand = async (
  argv: readonly string[],
  open: SessionCliOpener,
  io: BundleCliIo,
): Promise<number> => {
  const parsed = parse(argv, {
    tenant: { type: 'string' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (parsed instanceof Error) return fail(io, parsed.message, EXPORT_USAGE);
  if (parsed.values.help === true) {
    io.out(EXPORT_USAGE);
    return 0;
  }
  const sessionId = parsed.positionals[1];
  if (sessionId === undefined || !CLIENT_ID_PATTERN.test(sessionId))
    return fail(io, '<session>: a session id is required', EXPORT_USAGE);
  const problem = tenantProblem(parsed.values.tenant);
  if (problem !== undefined) return fail(io, problem, EXPORT_USAGE);
  const tenant = str(parsed.values.tenant);
  const deps = await open(dataDirOf(parsed.values));
  try {
    const bundle = await exportSessionBundle(
      { store: deps.store, checkpoints: deps.checkpoints },
      tenant,
      sessionId,
      await deps.streamIdOf(tenant, sessionId),
    );
    if (bundle === undefined) {
      io.err(`session ${sessionId} not found for tenant ${tenant}`);
      return 1;
    }
    io.write(bundle);
    return 0;
  } finally {
    await deps.close();
  }
};

/** `agentledger import [file] [--tenant T]`. */
export const runImportCommand = async (
  argv: readonly string[],
  open: SessionCliOpener,
  io: BundleCliIo,
): Promise<number> => {
  const parsed = parse(argv, {
    tenant: { type: 'string' },
    json: { type: 'boolean' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (parsed instanceof Error) return fail(io, parsed.message, IMPORT_USAGE);
  if (parsed.values.help === true) {
    io.out(IMPORT_USAGE);
    return 0;
  }
  if (parsed.values.tenant !== undefined) {
    const problem = tenantProblem(parsed.values.tenant);
    if (problem !== undefined) return fail(io, problem, IMPORT_USAGE);
  }
  const text = await io.readInput(parsed.positionals[1]);
  const firstLine = text.slice(0, text.indexOf('\n') < 0 ? undefined : text.indexOf('\n'));
  let bundleTenant: unknown;
  try {
    bundleTenant = (JSON.parse(firstLine) as { tenantId?: unknown }).tenantId;
  } catch {
    bundleTenant = undefined;
  }
  const tenant = parsed.values.tenant === undefined ? bundleTenant : parsed.values.tenant;
  if (typeof tenant !== 'string' || !CLIENT_ID_PATTERN.test(tenant)) {
    io.err('bundle refused: manifest: not a bundle manifest naming its tenant');
    return 1;
  }
  const deps = await open(dataDirOf(parsed.values));
  try {
    const imported = await importSessionBundle(
      {
        engine: deps.engine,
        checkpoints: deps.checkpoints,
        checkSpec: deps.checkSpec,
        ...(deps.signer === undefined ? {} : { signer: deps.signer }),
      },
      text,
      tenant,
    );
    if (parsed.values.json === true) io.out(JSON.stringify(imported));
    else
      io.out(
        `${imported.duplicate ? 'already imported' : 'imported'} ${imported.tenantId}/${imported.sessionId}: ${imported.eventCount} events, head ${imported.headHash}${imported.rehashed ? ` (mapped from the bundle's head ${imported.sourceHeadHash})` : ''}; ${imported.checkpoints.imported} checkpoint(s) verified and kept, ${imported.checkpoints.unverified} signed with another key`,
      );
    return 0;
  } catch (error) {
    if (error instanceof BundleRejected) {
      for (const p of error.problems)
        io.err(
          `bundle refused: ${p.field}${p.version === undefined ? '' : ` (version ${p.version})`}: ${p.message}`,
        );
      return 1;
    }
    if (error instanceof StreamVersionConflict || error instanceof StreamTenantMismatch) {
      io.err(`bundle refused: tenant ${tenant} already has another session with this id`);
      return 1;
    }
    throw error;
  } finally {
    await deps.close();
  }
};
