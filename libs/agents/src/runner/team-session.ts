import {
  createInMemoryEventStore,
  sessionStreamId,
  StreamVersionConflict,
  type EventEnvelope,
  type EventStore,
} from '@agentledger/events';
import { nextAction, type NextAction } from '../core/session/next-action.ts';
import type { CommandMetadata, SessionCommand } from '../core/session/session.commands.ts';
import { decide } from '../core/session/session.decide.ts';
import type { SessionEvent } from '../core/session/session.events.ts';
import { evolve } from '../core/session/session.evolve.ts';
import { initialSession, type Session, type SessionMessage } from '../core/session/session.state.ts';
import { parseTeamSpec } from '../core/spec/parse-team-spec.ts';
import type { ModelEndpoints } from '../core/spec/model-endpoints.ts';
import type { TeamSpec } from '../core/spec/team-spec.ts';
import type { ModelClient } from '../core/model/model-client.port.ts';
import type { EffectDeps } from '../effects/effect-deps.ts';
import { runModelCall } from '../effects/run-model-call.ts';
import { runToolCall } from '../effects/run-tool-call.ts';
import {
  createModelClientResolver,
  singleModelClient,
  type ModelClientResolver,
} from '../model/model-resolver.ts';
import { builtinTools } from '../tools/builtin.ts';
import type { ToolRegistry } from '../tools/tool.ts';

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

const toSessionEvent = (e: EventEnvelope): SessionEvent => ({ type: e.type, data: e.data }) as SessionEvent;

/** Folds stored envelopes into session state (what every replica and every replay does). */
export const foldEnvelopes = (
  envelopes: readonly EventEnvelope[],
  from: Session = initialSession(),
): Session => envelopes.map(toSessionEvent).reduce(evolve, from);

/**
 * A session of a team on an event store, driven in-process: fold → nextAction → effect → decide →
 * append with the expected version. The same decider and effect runners the orchestrator uses.
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
  const streamId = sessionStreamId(tenantId, sessionId);
  const clock = options.clock ?? (() => new Date());
  const model = options.model;
  const models: ModelClientResolver =
    typeof model === 'function'
      ? model
      : model
        ? singleModelClient(model)
        : createModelClientResolver({ env: {} });
  const deps: EffectDeps = {
    models,
    tools,
    clock,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.modelCallTimeoutMs ? { modelCallTimeoutMs: options.modelCallTimeoutMs } : {}),
  };
  let cached: Session = initialSession();
  let commandCount = 0;

  const load = async (): Promise<Session> => {
    const fresh = await store.readStream(streamId, { tenantId, fromVersion: cached.version + 1 });
    cached = foldEnvelopes(fresh, cached);
    return cached;
  };

  const metadata = (): CommandMetadata => {
    commandCount += 1;
    return { commandId: `${sessionId}:cmd-${commandCount}`, correlationId: sessionId, now: clock() };
  };

  /** Decides and appends; on a version conflict re-folds and decides again. */
  const execute = async (command: SessionCommand): Promise<void> => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const state = await load();
      const events = decide(command, state);
      if (events.length === 0) return;
      try {
        await store.append(
          streamId,
          events.map((e) => ({ type: e.type, data: e.data })),
          {
            tenantId,
            expectedVersion: state.version,
            metadata: { correlationId: command.metadata.correlationId },
          },
        );
        return;
      } catch (error) {
        if (!(error instanceof StreamVersionConflict)) throw error;
      }
    }
    throw new Error(`session ${sessionId}: too many version conflicts`);
  };

  const perform = async (state: Session, action: NextAction, resumed: boolean): Promise<boolean> => {
    switch (action.kind) {
      case 'call_model':
      case 'select_speaker': {
        const command = await runModelCall(deps, state, action);
        if (command) await execute(command);
        return true;
      }
      case 'run_tools': {
        const commands = await Promise.all(
          action.calls.map((call) => runToolCall(deps, state, call, { resumed })),
        );
        for (const command of commands) if (command) await execute(command);
        return true;
      }
      case 'await_approval': {
        if (!options.approve) return false;
        let decided = false;
        for (const approval of state.pending.approvals) {
          const answer = options.approve(approval);
          if (answer === undefined) continue;
          const { approve, reason } =
            typeof answer === 'boolean' ? { approve: answer, reason: undefined } : answer;
          await execute({
            type: 'DecideApproval',
            data: { toolCallId: approval.toolCallId, approve, ...(reason ? { reason } : {}) },
            metadata: metadata(),
          });
          decided = true;
        }
        return decided;
      }
      default:
        return false;
    }
  };

  const result = async (): Promise<TeamRunResult> => {
    const state = await load();
    const events = await store.readStream(streamId, { tenantId });
    const lastTurnId = state.turn?.turnId ?? state.lastTurn?.turnId ?? null;
    return {
      sessionId,
      state,
      events,
      messages: state.messages.filter((m) => m.turnId !== null && m.turnId === lastTurnId),
      stopReason: state.turn ? null : (state.lastTurn?.reason ?? null),
    };
  };

  const drive = async ({ resumed = false } = {}): Promise<TeamRunResult> => {
    const limit = options.maxEffects ?? 1000;
    for (let effects = 0; effects < limit; effects++) {
      const state = await load();
      const progressed = await perform(state, nextAction(state), resumed && effects === 0);
      if (!progressed) return result();
    }
    throw new Error(`session ${sessionId}: more than ${limit} effects in one drive`);
  };

  await execute({ type: 'StartSession', data: { sessionId, tenantId, teamId, spec }, metadata: metadata() });

  return {
    sessionId,
    store,
    send: async (content, messageId) => {
      await execute({
        type: 'PostUserMessage',
        data: { messageId: messageId ?? `${sessionId}:msg-${commandCount + 1}`, content },
        metadata: metadata(),
      });
      return drive();
    },
    decideApproval: async (toolCallId, approve, reason) => {
      await execute({
        type: 'DecideApproval',
        data: { toolCallId, approve, ...(reason ? { reason } : {}) },
        metadata: metadata(),
      });
      return drive();
    },
    cancel: async (reason) => {
      await execute({ type: 'CancelTurn', data: reason ? { reason } : {}, metadata: metadata() });
      return drive();
    },
    close: async (reason) => {
      await execute({ type: 'CloseSession', data: reason ? { reason } : {}, metadata: metadata() });
      return result();
    },
    drive,
    state: load,
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
