import {
  builtinTools,
  createModelClientResolver,
  initialSession,
  parseTeamSpec,
  singleModelClient,
  type CommandMetadata,
  type DeltaSink,
  type EffectDeps,
  type ModelClient,
  type ModelClientResolver,
  type ModelEndpoints,
  type Session,
  type SessionCommand,
  type SessionMessage,
  type TeamSpec,
  type ToolRegistry,
} from '@agentledger/agents';
import {
  createInMemoryEventStore,
  sessionStreamId,
  type EventEnvelope,
  type EventStore,
} from '@agentledger/events';
import { createSessionEngine } from '../engine/session-engine.ts';
import { createInMemorySessionIndex } from '../memory/memory-session-index.ts';

export type ApprovalPolicy = (
  request: Readonly<{ toolCallId: string; name: string; arguments: string; agent: string }>,
) => boolean | Readonly<{ approve: boolean; reason?: string }> | undefined;

export type TeamRunOptions = Readonly<{
  /** Default: a fresh in-memory event store. */
  store?: EventStore;
  sessionId?: string;
  tenantId?: string;
  teamId?: string;
  /** One client for every agent, or a resolver per model spec. Default: the scripted demo client. */
  model?: ModelClient | ModelClientResolver;
  /** Default: the built-in tools (calculator, http_request with no allowed host). */
  tools?: ToolRegistry;
  /** The model endpoints a spec may name (default: only `default`, no URL); give the resolver the same. */
  endpoints?: ModelEndpoints;
  /** Default: the real clock. */
  clock?: () => Date;
  /** Decides approvals as they are requested; without it the run stops at `awaiting_approval`. */
  approve?: ApprovalPolicy;
  signal?: AbortSignal;
  /** Per model call, retries included; default 120 s. */
  modelCallTimeoutMs?: number;
  /** Safety net against runaway loops: effects performed per drive. Default 1000. */
  maxEffects?: number;
  /** Model calls stream and hand their pieces here (the recorded events are the same). */
  deltas?: DeltaSink;
}>;

export type TeamRunResult = Readonly<{
  sessionId: string;
  state: Session;
  /** Every stored event of the session. */
  events: readonly EventEnvelope[];
  /** Messages of the last turn (the task included), as AutoGen's TaskResult.messages. */
  messages: readonly SessionMessage[];
  /** The last turn's termination, cancel or failure reason. */
  stopReason: string | null;
}>;

export type TeamSession = Readonly<{
  sessionId: string;
  store: EventStore;
  /** Posts a user message and drives the session until it waits (idle, input, approval). */
  send: (content: string, messageId?: string) => Promise<TeamRunResult>;
  decideApproval: (toolCallId: string, approve: boolean, reason?: string) => Promise<TeamRunResult>;
  cancel: (reason?: string) => Promise<TeamRunResult>;
  close: (reason?: string) => Promise<TeamRunResult>;
  /** Performs pending work (after a crash, `resumed` marks non-idempotent tools unknown-outcome). */
  drive: (options?: Readonly<{ resumed?: boolean }>) => Promise<TeamRunResult>;
  state: () => Promise<Session>;
}>;

const approvalsBy =
  (policy: ApprovalPolicy, metadata: () => CommandMetadata) =>
  (state: Session): SessionCommand[] =>
    state.pending.approvals.flatMap((approval): SessionCommand[] => {
      const answer = policy(approval);
      if (answer === undefined) return [];
      const { approve, reason } =
        typeof answer === 'boolean' ? { approve: answer, reason: undefined } : answer;
      return [
        {
          type: 'DecideApproval',
          data: { toolCallId: approval.toolCallId, approve, ...(reason ? { reason } : {}) },
          metadata: metadata(),
        },
      ];
    });

const modelsOf = (model: TeamRunOptions['model']): ModelClientResolver =>
  typeof model === 'function'
    ? model
    : model
      ? singleModelClient(model)
      : createModelClientResolver({ env: {} });

/**
 * A session of a team on an event store, driven in-process by the session engine (with the
 * in-memory read model): the same decider, effect runners and engine the orchestrator uses.
 */
export const createTeamSession = async (
  specInput: unknown,
  options: TeamRunOptions = {},
): Promise<TeamSession> => {
  const tools = options.tools ?? builtinTools();
  const spec: TeamSpec = parseTeamSpec(specInput, {
    toolNames: tools.names(),
    ...(options.endpoints ? { endpoints: options.endpoints } : {}),
  });
  const store = options.store ?? createInMemoryEventStore();
  const tenantId = options.tenantId ?? 'default';
  const sessionId = options.sessionId ?? `run-${Math.random().toString(36).slice(2, 10)}`;
  const teamId = options.teamId ?? spec.name.replace(/[^A-Za-z0-9._:-]/g, '-');
  const ref = { tenantId, sessionId };
  const clock = options.clock ?? (() => new Date());
  let commandCount = 0;
  const metadata = (): CommandMetadata => {
    commandCount += 1;
    return { commandId: `${sessionId}:cmd-${commandCount}`, correlationId: sessionId, now: clock() };
  };
  const effects: Omit<EffectDeps, 'signal'> = {
    models: modelsOf(options.model),
    tools,
    clock,
    ...(options.modelCallTimeoutMs ? { modelCallTimeoutMs: options.modelCallTimeoutMs } : {}),
    ...(options.deltas ? { deltas: options.deltas } : {}),
  };
  const engine = createSessionEngine({
    store,
    index: createInMemorySessionIndex(),
    partitions: 1,
    effects,
    hooks: options.approve ? { decideApprovals: approvalsBy(options.approve, metadata) } : {},
  });
  const signal = options.signal ?? new AbortController().signal;

  const state = async (): Promise<Session> => (await engine.load(tenantId, sessionId)) ?? initialSession();
  const handle = async (command: SessionCommand): Promise<void> => {
    await engine.handle(command, { ...ref, metadata: { correlationId: command.metadata.correlationId } });
  };

  const result = async (): Promise<TeamRunResult> => {
    const current = await state();
    const events = await store.readStream(sessionStreamId(tenantId, sessionId), { tenantId });
    const lastTurnId = current.turn?.turnId ?? current.lastTurn?.turnId ?? null;
    return {
      sessionId,
      state: current,
      events,
      messages: current.messages.filter((m) => m.turnId !== null && m.turnId === lastTurnId),
      stopReason: current.turn ? null : (current.lastTurn?.reason ?? null),
    };
  };

  const drive = async ({ resumed = false } = {}): Promise<TeamRunResult> => {
    const limit = options.maxEffects ?? 1000;
    const outcome = await engine.step(ref, undefined, signal, { resumed, maxSteps: limit });
    if (outcome.status === 'limit')
      throw new Error(`session ${sessionId}: more than ${limit} effects in one drive`);
    return result();
  };

  const then = async (
    command: SessionCommand,
    next: () => Promise<TeamRunResult>,
  ): Promise<TeamRunResult> => {
    await handle(command);
    return next();
  };

  await handle({ type: 'StartSession', data: { sessionId, tenantId, teamId, spec }, metadata: metadata() });

  return {
    sessionId,
    store,
    send: (content, messageId) =>
      then(
        {
          type: 'PostUserMessage',
          data: { messageId: messageId ?? `${sessionId}:msg-${commandCount + 1}`, content },
          metadata: metadata(),
        },
        drive,
      ),
    decideApproval: (toolCallId, approve, reason) =>
      then(
        {
          type: 'DecideApproval',
          data: { toolCallId, approve, ...(reason ? { reason } : {}) },
          metadata: metadata(),
        },
        drive,
      ),
    cancel: (reason) =>
      then({ type: 'CancelTurn', data: reason ? { reason } : {}, metadata: metadata() }, drive),
    close: (reason) =>
      then({ type: 'CloseSession', data: reason ? { reason } : {}, metadata: metadata() }, result),
    drive,
    state,
  };
};

/**
 * AutoGen's `team.run(task)`: starts a session of the team (our spec or an AutoGen component JSON)
 * on an event store (in-memory by default), posts the task and runs until the team stops or waits.
 */
export const runTeam = async (
  spec: unknown,
  task: string,
  options: TeamRunOptions = {},
): Promise<TeamRunResult> => {
  const session = await createTeamSession(spec, options);
  return session.send(task);
};
