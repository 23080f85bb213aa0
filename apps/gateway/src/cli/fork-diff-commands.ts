import {
  foldSession,
  SessionCommandRejected,
  toSessionView,
  type SessionCommand,
  type SessionEvent,
} from '@agentledger/agents';
import { canonicalJson, uuidv7 } from '@agentledger/events';
import { CLIENT_ID_PATTERN } from '../http/validation.ts';
import { describeEvent, fail, parse, str, tenantProblem } from './audit-commands.ts';
import type { SessionCliDeps, SessionCliOpener } from './bundle-commands.ts';
import type { CliOutput } from './keys-command.ts';

export const FORK_USAGE = `usage: agentledger fork <session> --tenant <tenantId> --at <version> [--as <newSessionId>] [--json] [--data-dir <dir>]

Starts a new session (default id <session>-fork-<version>) whose history is the session's first
<version> events, as POST /v1/sessions/{id}/fork does. Forking again with the same arguments is a no-op.`;

export const DIFF_USAGE = `usage: agentledger diff <a> <b> --tenant <tenantId> [--tenant-b <tenantId>] [--json] [--data-dir <dir>]

Compares two sessions' histories (a fork counts its parent's prefix as its own first versions):
prints the first divergent version with both events, then what each side did from there. Exit 0
when they agree (one may extend the other), 1 when they diverge.`;

/** `agentledger fork <session> --tenant T --at N [--as ID]`. */
export const runForkCommand = async (
  argv: readonly string[],
  open: SessionCliOpener,
  io: CliOutput,
  clock: () => Date = () => new Date(),
): Promise<number> => {
  const parsed = parse(argv, {
    tenant: { type: 'string' },
    at: { type: 'string' },
    as: { type: 'string' },
    json: { type: 'boolean' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (parsed instanceof Error) return fail(io, parsed.message, FORK_USAGE);
  if (parsed.values.help === true) {
    io.out(FORK_USAGE);
    return 0;
  }
  const parentId = parsed.positionals[1];
  if (parentId === undefined || !CLIENT_ID_PATTERN.test(parentId))
    return fail(io, '<session>: a session id is required', FORK_USAGE);
  const problem = tenantProblem(parsed.values.tenant);
  if (problem !== undefined) return fail(io, problem, FORK_USAGE);
  const at = Number(parsed.values.at);
  if (!(Number.isSafeInteger(at) && at >= 1))
    return fail(io, '--at: a version, a positive integer', FORK_USAGE);
  const sessionId = parsed.values.as === undefined ? `${parentId}-fork-${at}` : str(parsed.values.as);
  if (!CLIENT_ID_PATTERN.test(sessionId))
    return fail(io, '--as: a session id: ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$', FORK_USAGE);
  const tenantId = str(parsed.values.tenant);
  const deps = await open(
    typeof parsed.values['data-dir'] === 'string' ? parsed.values['data-dir'] : undefined,
  );
  try {
    const prefix = await deps.store.readStream(await deps.streamIdOf(tenantId, parentId), {
      tenantId,
      toVersion: at,
    });
    if (prefix.length === 0) {
      io.err(`session ${parentId} not found for tenant ${tenantId}`);
      return 1;
    }
    if (prefix.length < at)
      return fail(io, `--at: beyond the session's version ${prefix.length}`, FORK_USAGE);
    const commandId = uuidv7();
    const command: SessionCommand = {
      type: 'ForkSession',
      data: {
        sessionId,
        tenantId,
        parentSessionId: parentId,
        atVersion: at,
        parentEvents: prefix.map((e) => ({ type: e.type, data: e.data }) as SessionEvent),
      },
      metadata: { commandId, correlationId: commandId, now: clock(), actor: 'cli' },
    };
    const handled = await deps.engine
      .handle(command, { tenantId, sessionId, metadata: { actor: 'cli', correlationId: commandId } })
      .catch((error: unknown) => error);
    if (handled instanceof SessionCommandRejected) {
      io.err(`fork refused: ${handled.message}`);
      return 1;
    }
    if (handled instanceof Error) throw handled;
    const { state, events } = handled as Awaited<ReturnType<SessionCliDeps['engine']['handle']>>;
    const view = {
      sessionId,
      parentSessionId: parentId,
      atVersion: at,
      status: state.status,
      created: events.length > 0,
    };
    if (parsed.values.json === true) io.out(JSON.stringify(view));
    else
      io.out(
        `${view.created ? 'forked' : 'already forked'} ${parentId}@${at} -> ${sessionId} (${state.status})`,
      );
    return 0;
  } finally {
    await deps.close();
  }
};

/** A session's history as decisions see it: a fork's first event stands for its parent's prefix. */
const logicalHistory = (events: readonly Readonly<{ type: string; data: unknown }>[]): SessionEvent[] =>
  events.flatMap((e) =>
    e.type === 'SessionForked'
      ? [...(e.data as { parentEvents: SessionEvent[] }).parentEvents]
      : [{ type: e.type, data: e.data } as SessionEvent],
  );

const sameEvent = (a: SessionEvent | undefined, b: SessionEvent | undefined): boolean =>
  a !== undefined && b !== undefined && canonicalJson(a) === canonicalJson(b);

const line = (e: SessionEvent | undefined): string =>
  e === undefined
    ? '(no event: the history ends here)'
    : `${e.type}: ${describeEvent(e)?.trim() ?? canonicalJson(e.data)}`;

/** `agentledger diff <a> <b> --tenant T [--tenant-b T2]`. */
export const runDiffCommand = async (
  argv: readonly string[],
  open: SessionCliOpener,
  io: CliOutput,
): Promise<number> => {
  const parsed = parse(argv, {
    tenant: { type: 'string' },
    'tenant-b': { type: 'string' },
    json: { type: 'boolean' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (parsed instanceof Error) return fail(io, parsed.message, DIFF_USAGE);
  if (parsed.values.help === true) {
    io.out(DIFF_USAGE);
    return 0;
  }
  const [, a, b] = parsed.positionals;
  if (a === undefined || b === undefined || !CLIENT_ID_PATTERN.test(a) || !CLIENT_ID_PATTERN.test(b))
    return fail(io, '<a> <b>: two session ids are required', DIFF_USAGE);
  const problem =
    tenantProblem(parsed.values.tenant) ??
    (parsed.values['tenant-b'] === undefined ? undefined : tenantProblem(parsed.values['tenant-b']));
  if (problem !== undefined) return fail(io, problem, DIFF_USAGE);
  const tenantA = str(parsed.values.tenant);
  const tenantB = parsed.values['tenant-b'] === undefined ? tenantA : str(parsed.values['tenant-b']);
  const deps = await open(
    typeof parsed.values['data-dir'] === 'string' ? parsed.values['data-dir'] : undefined,
  );
  try {
    const read = async (tenantId: string, id: string) =>
      deps.store.readStream(await deps.streamIdOf(tenantId, id), { tenantId });
    const [storedA, storedB] = await Promise.all([read(tenantA, a), read(tenantB, b)]);
    for (const [id, tenant, stored] of [
      [a, tenantA, storedA],
      [b, tenantB, storedB],
    ] as const)
      if (stored.length === 0) {
        io.err(`session ${id} not found for tenant ${tenant}`);
        return 2;
      }
    const [historyA, historyB] = [logicalHistory(storedA), logicalHistory(storedB)];
    let index = 0;
    while (index < Math.min(historyA.length, historyB.length) && sameEvent(historyA[index], historyB[index]))
      index += 1;
    const diverged = index < Math.max(historyA.length, historyB.length);
    const side = (id: string, history: readonly SessionEvent[]) => ({
      session: id,
      version: history.length,
      status: toSessionView(foldSession(history)).status,
      after: history.slice(index).map((e) => describeEvent(e)?.trim() ?? e.type),
    });
    const summary = {
      firstDivergentVersion: diverged ? index + 1 : null,
      diverged: diverged && index < Math.min(historyA.length, historyB.length),
      a: side(a, historyA),
      b: side(b, historyB),
    };
    if (parsed.values.json === true) io.out(JSON.stringify(summary));
    else if (!diverged) io.out(`${a} and ${b} agree: ${historyA.length} events each`);
    else {
      io.out(`first divergent version ${index + 1}:`);
      io.out(`  ${a}: ${line(historyA[index])}`);
      io.out(`  ${b}: ${line(historyB[index])}`);
      for (const s of [summary.a, summary.b]) {
        io.out(
          `${s.session}: ${s.after.length} event(s) from version ${index + 1} to ${s.version}, status ${s.status}`,
        );
        for (const text of s.after) io.out(`    ${text}`);
      }
    }
    return summary.diverged ? 1 : 0;
  } finally {
    await deps.close();
  }
};
