import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { foldSession, toSessionView, type SessionEvent } from '@agentledger/agents';
import { parseSessionStreamId, verifyChain, type EventEnvelope, type EventStore } from '@agentledger/events';
import {
  auditEvents,
  readSessionStreams,
  tombstoneProblem,
  type CheckpointSigner,
  type CheckpointStore,
  type SessionAudit,
  type Tombstone,
} from '@agentledger/sessions';
import { CLIENT_ID_PATTERN } from '../http/validation.ts';
import type { CliOutput } from './keys-command.ts';

/** What the audit commands read: the event store, the sessions' stream ids, signed checkpoints. */
export type AuditCliDeps = Readonly<{
  store: Pick<EventStore, 'readStream' | 'readAll' | 'committedHead' | 'verifyStream'>;
  streamIdOf: (tenantId: string, sessionId: string) => Promise<string>;
  checkpoints: CheckpointStore;
  /** From AGENTLEDGER_AUDIT_SIGNING_KEY or AGENTLEDGER_AUDIT_PUBLIC_KEY; absent: checkpoints off. */
  signer?: CheckpointSigner;
  /** Sessions deleted by retention (all tenants, or one): reported, their checkpoints checked. */
  tombstones?: (tenantId?: string) => Promise<readonly Tombstone[]>;
  close: () => Promise<void>;
}>;

/** Progress (a bar redrawn with `\r`) goes to stderr, never to stdout. */
export type AuditCliOutput = CliOutput & Readonly<{ progress?: (text: string) => void }>;

export type AuditCliOpener = (dataDir: string | undefined) => Promise<AuditCliDeps>;

export const REPLAY_USAGE = `usage: agentledger replay <session> --tenant <tenantId> [--at <version>] [--json] [--data-dir <dir>]

Prints the conversation as it stood at --at (default: now): agents' messages, tool calls and their
results, approvals, handoffs, turns. Folds the recorded events only; no model or tool is called.`;

export const VERIFY_USAGE = `usage: agentledger verify <session> --tenant <tenantId> [--json] [--data-dir <dir>]
       agentledger verify --all [--tenant <tenantId>] [--since <date>] [--json] [--data-dir <dir>]

Checks each session's hash chain, its signed checkpoints (with AGENTLEDGER_AUDIT_SIGNING_KEY or
AGENTLEDGER_AUDIT_PUBLIC_KEY) and decision replay. Sessions deleted by retention are valid: their
tombstones are listed (and their last signed checkpoint checked). Progress on stderr; a summary with
sessions/s and events/s on stdout. Exit code 1 names every failing session and version; 2 is bad usage.`;

export const fail = (io: CliOutput, message: string, usage: string): number => {
  io.err(`${message}\n${usage}`);
  return 2;
};

export const parse = <O extends ParseArgsOptionsConfig>(argv: readonly string[], options: O) => {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true });
  } catch (error) {
    return error as Error;
  }
};

export const tenantProblem = (tenant: unknown): string | undefined =>
  typeof tenant === 'string' && CLIENT_ID_PATTERN.test(tenant)
    ? undefined
    : '--tenant: a tenant id: ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';

export const str = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** One line per event of the conversation, readable without the JSON. */
export const describeEvent = (e: SessionEvent): string | undefined => {
  switch (e.type) {
    case 'SessionStarted':
      return `session ${e.data.sessionId} of team ${e.data.teamId} (${e.data.spec.type}: ${e.data.spec.agents.map((a) => a.name).join(', ')})`;
    case 'SessionForked':
      return `forked from ${e.data.parentSessionId} at version ${e.data.atVersion}`;
    case 'UserMessageReceived':
      return `${e.data.source}: ${e.data.content}`;
    case 'TurnStarted':
      return `-- turn ${e.data.turnId}`;
    case 'AgentMessageEmitted':
      return `${e.data.agent}${e.data.messageType === 'text' ? '' : ` (${e.data.messageType})`}: ${e.data.content}`;
    case 'ToolCallRequested':
      return `  ${e.data.agent} calls ${e.data.name}(${e.data.arguments}) [${e.data.toolCallId}]`;
    case 'ToolCallCompleted':
      return `  -> ${e.data.result} [${e.data.toolCallId}]`;
    case 'ToolCallFailed':
      return `  -> failed (${e.data.reason}): ${e.data.message} [${e.data.toolCallId}]`;
    case 'ToolApprovalRequested':
      return `  approval requested for ${e.data.name} [${e.data.toolCallId}]`;
    case 'ToolApprovalGranted':
      return `  approved${e.data.actor ? ` by ${e.data.actor}` : ''} [${e.data.toolCallId}]`;
    case 'ToolApprovalDenied':
      return `  denied${e.data.actor ? ` by ${e.data.actor}` : ''} [${e.data.toolCallId}]`;
    case 'HandoffOccurred':
      return `  handoff ${e.data.from} -> ${e.data.to}`;
    case 'TurnCompleted':
      return `-- turn ${e.data.turnId} completed: ${e.data.reason}`;
    case 'TurnCancelled':
      return `-- turn ${e.data.turnId} cancelled: ${e.data.reason}`;
    case 'TurnFailed':
      return `-- turn ${e.data.turnId} failed: ${e.data.reason}`;
    case 'SessionAwaitingInput':
      return `-- waiting for input (${e.data.agent}, ${e.data.reason})`;
    case 'SessionClosed':
      return `-- session closed${e.data.reason ? `: ${e.data.reason}` : ''}`;
    default:
      return undefined;
  }
};

/** `agentledger replay <session> --tenant T [--at N]`: the conversation as it stood, from the log alone. */
export const runReplayCommand = async (
  argv: readonly string[],
  open: AuditCliOpener,
  io: CliOutput,
): Promise<number> => {
  const parsed = parse(argv, {
    tenant: { type: 'string' },
    at: { type: 'string' },
    json: { type: 'boolean' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (parsed instanceof Error) return fail(io, parsed.message, REPLAY_USAGE);
  if (parsed.values.help === true) {
    io.out(REPLAY_USAGE);
    return 0;
  }
  const sessionId = parsed.positionals[1];
  if (sessionId === undefined || !CLIENT_ID_PATTERN.test(sessionId))
    return fail(io, '<session>: a session id is required', REPLAY_USAGE);
  const problem = tenantProblem(parsed.values.tenant);
  if (problem !== undefined) return fail(io, problem, REPLAY_USAGE);
  const at = parsed.values.at === undefined ? undefined : Number(parsed.values.at);
  if (at !== undefined && !(Number.isSafeInteger(at) && at >= 1))
    return fail(io, '--at: a version, a positive integer', REPLAY_USAGE);
  const tenant = str(parsed.values.tenant);
  const deps = await open(
    typeof parsed.values['data-dir'] === 'string' ? parsed.values['data-dir'] : undefined,
  );
  try {
    const streamId = await deps.streamIdOf(tenant, sessionId);
    const events = await deps.store.readStream(streamId, {
      tenantId: tenant,
      ...(at === undefined ? {} : { toVersion: at }),
    });
    if (events.length === 0) {
      io.err(`session ${sessionId} not found for tenant ${tenant}`);
      return 1;
    }
    if (at !== undefined && events.length < at) {
      io.err(`--at: beyond the session's version ${events.length}`);
      return 2;
    }
    const history = events.map((e) => ({ type: e.type, data: e.data }) as SessionEvent);
    const view = toSessionView(foldSession(history));
    if (parsed.values.json === true) {
      io.out(JSON.stringify({ version: events.length, state: view, events }));
      return 0;
    }
    for (const [i, event] of history.entries()) {
      const line = describeEvent(event);
      if (line !== undefined) io.out(`${String(i + 1).padStart(5)}  ${line}`);
    }
    io.out(`status ${view.status} at version ${events.length}`);
    return 0;
  } finally {
    await deps.close();
  }
};

type Failure = Readonly<{ tenant: string; session: string; what: string; version: number | null }>;

const failuresOf = (tenant: string, session: string, audit: SessionAudit): Failure[] => [
  ...(audit.hashChainValid
    ? []
    : [{ tenant, session, what: 'hash chain', version: audit.firstBrokenVersion }]),
  ...audit.checkpoints.problems.map((p) => ({
    tenant,
    session,
    what: `checkpoint ${p.reason}`,
    version: p.version,
  })),
  ...(audit.replayMatches
    ? []
    : [{ tenant, session, what: 'decision replay', version: audit.firstDivergentVersion }]),
];

const progressBar = (io: AuditCliOutput, total: number | undefined) => {
  let last = 0;
  return (done: number, events: number, force = false): void => {
    const now = Date.now();
    if (!force && now - last < 200) return;
    last = now;
    const width = 30;
    const bar =
      total === undefined || total === 0
        ? ''
        : `[${'#'.repeat(Math.round((done / total) * width)).padEnd(width, '.')}] `;
    io.progress?.(`\r${bar}${done}${total === undefined ? '' : `/${total}`} sessions, ${events} events`);
  };
};

/** `agentledger verify (<session> --tenant T | --all [--tenant T] [--since DATE])`. */
export const runVerifyCommand = async (
  argv: readonly string[],
  open: AuditCliOpener,
  io: AuditCliOutput,
  clock: () => number = () => performance.now(),
  cpu: () => number = () => process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
): Promise<number> => {
  const parsed = parse(argv, {
    tenant: { type: 'string' },
    all: { type: 'boolean' },
    since: { type: 'string' },
    json: { type: 'boolean' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (parsed instanceof Error) return fail(io, parsed.message, VERIFY_USAGE);
  if (parsed.values.help === true) {
    io.out(VERIFY_USAGE);
    return 0;
  }
  const all = parsed.values.all === true;
  const sessionId = parsed.positionals[1];
  if (all === (sessionId !== undefined)) return fail(io, 'give either <session> or --all', VERIFY_USAGE);
  if (sessionId !== undefined && !CLIENT_ID_PATTERN.test(sessionId))
    return fail(io, '<session>: not a session id', VERIFY_USAGE);
  if (!all || parsed.values.tenant !== undefined) {
    const problem = tenantProblem(parsed.values.tenant);
    if (problem !== undefined) return fail(io, problem, VERIFY_USAGE);
  }
  const since = parsed.values.since === undefined ? undefined : new Date(str(parsed.values.since));
  if (since !== undefined && Number.isNaN(since.getTime()))
    return fail(io, '--since: a date (ISO 8601, e.g. 2026-01-31)', VERIFY_USAGE);
  const tenant = parsed.values.tenant === undefined ? undefined : str(parsed.values.tenant);
  const deps = await open(
    typeof parsed.values['data-dir'] === 'string' ? parsed.values['data-dir'] : undefined,
  );
  const started = clock();
  const cpuAtStart = cpu();
  const failures: Failure[] = [];
  const tombstones: Tombstone[] = [];
  let sessions = 0;
  let eventCount = 0;
  const checkOne = async (t: string, session: string, streamId: string, events: readonly EventEnvelope[]) => {
    const checkpointList = deps.signer === undefined ? [] : await deps.checkpoints.list(t, streamId);
    const audit = auditEvents(
      deps.signer === undefined ? {} : { signer: deps.signer },
      verifyChain(streamId, events),
      events,
      checkpointList,
    );
    sessions += 1;
    eventCount += events.length;
    failures.push(...failuresOf(t, session, audit));
  };
  try {
    if (!all) {
      const t = tenant!;
      const streamId = await deps.streamIdOf(t, sessionId!);
      const verified = await deps.store.verifyStream(streamId, { tenantId: t });
      const events = await deps.store.readStream(streamId, { tenantId: t });
      if (events.length === 0) {
        const tombstone = (await deps.tombstones?.(t))?.findLast((x) => x.sessionId === sessionId);
        if (tombstone === undefined) {
          io.err(`session ${sessionId} not found for tenant ${t}`);
          return 1;
        }
        tombstones.push(tombstone);
      } else {
        const checkpointList = deps.signer === undefined ? [] : await deps.checkpoints.list(t, streamId);
        const audit = auditEvents(
          deps.signer === undefined ? {} : { signer: deps.signer },
          verified,
          events,
          checkpointList,
        );
        sessions = 1;
        eventCount = events.length;
        failures.push(...failuresOf(t, sessionId!, audit));
      }
    } else {
      const progress = progressBar(io, undefined);
      // One pass over the log as committed now, in global order: streams grouped, then checked.
      const streams = await readSessionStreams(deps.store, {
        ...(tenant === undefined ? {} : { tenantId: tenant }),
        onPage: (position) => progress(0, position),
      });
      const done = progressBar(io, streams.size);
      for (const [streamId, events] of streams) {
        streams.delete(streamId); // checked streams leave the heap (the log is held only until checked)
        const first = events[0]!;
        const data = first.data as { sessionId?: string; at?: string };
        if (since !== undefined && (data.at === undefined || new Date(data.at) < since)) continue;
        await checkOne(
          first.tenantId,
          data.sessionId ?? parseSessionStreamId(streamId)!.sessionId,
          streamId,
          events,
        );
        done(sessions, eventCount);
      }
      done(sessions, eventCount, true);
      io.progress?.('\n');
      tombstones.push(...((await deps.tombstones?.(tenant)) ?? []));
    }
    for (const t of tombstones) {
      const problem = tombstoneProblem(deps.signer, t);
      if (problem !== undefined)
        failures.push({
          tenant: t.tenantId,
          session: t.sessionId,
          what: `tombstone: ${problem}`,
          version: t.headVersion,
        });
    }
  } finally {
    await deps.close();
  }
  const seconds = Math.max((clock() - started) / 1000, 1e-6);
  // CPU time next to wall time: on a shared machine the wall clock measures the neighbours too.
  const cpuSeconds = Math.max(cpu() - cpuAtStart, 1e-6);
  const summary = {
    sessions,
    events: eventCount,
    failures,
    seconds: Number(seconds.toFixed(3)),
    sessionsPerSecond: Math.round(sessions / seconds),
    eventsPerSecond: Math.round(eventCount / seconds),
    cpuSeconds: Number(cpuSeconds.toFixed(3)),
    eventsPerCpuSecond: Math.round(eventCount / cpuSeconds),
    checkpoints: deps.signer === undefined ? 'off' : 'on',
    tombstones: tombstones.map(
      ({
        tenantId,
        sessionId,
        streamId,
        headVersion,
        headHash,
        eventCount,
        deletedAt,
        policy,
        checkpoint,
      }) => ({
        tenant: tenantId,
        session: sessionId,
        streamId,
        headVersion,
        headHash,
        eventCount,
        deletedAt,
        policy,
        signedVersion: checkpoint?.version ?? null,
      }),
    ),
  };
  if (parsed.values.json === true) io.out(JSON.stringify(summary));
  else {
    for (const t of summary.tombstones)
      io.out(
        `TOMBSTONE ${t.tenant}/${t.session}: ${t.eventCount} events up to head ${t.headHash.slice(0, 12)}, deleted by retention at ${t.deletedAt}${t.signedVersion === null ? '' : `, signed at version ${t.signedVersion}`}`,
      );
    for (const f of failures)
      io.out(
        `FAIL ${f.tenant}/${f.session}: ${f.what}${f.version === null ? '' : ` at version ${f.version}`}`,
      );
    io.out(
      `${sessions} sessions, ${eventCount} events verified in ${summary.seconds} s (${summary.sessionsPerSecond} sessions/s, ${summary.eventsPerSecond} events/s; ${summary.cpuSeconds} s of CPU, ${summary.eventsPerCpuSecond} events per CPU-second); checkpoints ${summary.checkpoints}; ${failures.length} failure(s)${tombstones.length === 0 ? '' : `; ${tombstones.length} session(s) deleted by retention`}`,
    );
  }
  return failures.length === 0 ? 0 : 1;
};
