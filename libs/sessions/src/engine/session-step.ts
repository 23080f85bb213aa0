import {
  isAbortedOutcome,
  nextAction,
  runModelCall,
  runToolCall,
  type EffectDeps,
  type NextAction,
  type RecordModelCall,
  type RecordSpeakerSelection,
  type Session,
  type SessionCommand,
  type ToolCallAction,
} from '@agentledger/agents';
import type { EventMetadata } from '@agentledger/events';
import { LeaseLost } from '../errors.ts';
import type { Lease } from '../session-index.ts';
import { withUnavailableRetry } from './conflict-policy.ts';
import type { CommandContext, Handled, SessionRef } from './session-engine.ts';
import { createStepSpan, traceModelCall, traceToolCall, type StepSpan } from './step-spans.ts';

export type ModelAction = Extract<NextAction, { kind: 'call_model' | 'select_speaker' }>;
export type ModelResult = RecordModelCall | RecordSpeakerSelection;
export type EffectContext = SessionRef & Readonly<{ state: Session; signal: AbortSignal }>;

/**
 * What a host adds around the effects of a step, so the engine stays free of frameworks and
 * metrics: the orchestrator passes semaphores, rate limits, budgets, parking and markers here.
 */
export type StepHooks = Readonly<{
  /** Wraps one model or selector call (concurrency and rate limits, metrics). */
  aroundModelCall?: (
    run: () => Promise<ModelResult | null>,
    ctx: EffectContext & Readonly<{ action: ModelAction }>,
  ) => Promise<ModelResult | null>;
  /** Wraps one tool call (concurrency limits, metrics). */
  aroundToolCall?: (
    run: () => Promise<SessionCommand | null>,
    ctx: EffectContext & Readonly<{ call: ToolCallAction }>,
  ) => Promise<SessionCommand | null>;
  /** A result recorded instead of calling the model (a spent tenant budget), or undefined to call it. */
  beforeModelCall?: (
    ctx: EffectContext & Readonly<{ action: ModelAction }>,
  ) => Promise<ModelResult | undefined>;
  /**
   * A model call failed with a retryable error: a delay in ms parks the session (the failure is not
   * recorded and the step ends `parked`); undefined records the failure.
   */
  park?: (ctx: SessionRef & Readonly<{ action: ModelAction }>) => number | undefined;
  /** Written just before a non-idempotent tool runs; false means an earlier owner may have run it. */
  claimAttempt?: (lease: Lease, toolCallId: string) => Promise<boolean>;
  /** Decides pending approvals by policy (`runTeam`); none: the step stops at `awaiting_approval`. */
  decideApprovals?: (state: Session) => readonly SessionCommand[];
  /** Stamped on every append of a step (replica, actor); the command's correlation id is added. */
  metadata?: Omit<EventMetadata, 'correlationId'>;
}>;

export type StepOptions = Readonly<{
  /** After a crash without attempt markers: non-idempotent tools of the first step are unknown-outcome. */
  resumed?: boolean;
  /** Safety net against runaway loops (default unlimited). */
  maxSteps?: number;
  /** Checked before each step: false ends the step loop `aborted` without cutting an effect short (shutdown). */
  keepGoing?: () => boolean;
  /** This caller's effect dependencies and hooks, instead of the engine's (one engine, many hosts). */
  effects?: Omit<EffectDeps, 'signal'>;
  hooks?: StepHooks;
  /** The session as the caller loaded it from the store just now: the step starts from it, not loading again. */
  loaded?: Session;
  /**
   * W3C parent of the step's span: the delivery that brought the work, used when it belongs to the
   * running turn (else the trace of the message that turn answers; else the active span).
   */
  traceparent?: string;
}>;

export type StepOutcome = Readonly<{
  /** idle: nothing runnable (waiting for input or approval, or done); limit: `maxSteps` reached. */
  status: 'idle' | 'parked' | 'lost' | 'aborted' | 'limit';
  /** The session after the last step (undefined when there is no such session). */
  state: Session | undefined;
  steps: number;
  /** For `parked`: when to step the session again. */
  delayMs?: number;
}>;

type StepDeps = Readonly<{
  handle: (command: SessionCommand, ctx: CommandContext) => Promise<Handled>;
  load: (tenantId: string, sessionId: string) => Promise<Session | undefined>;
  /** The trace the session's work continues as last loaded (its running turn's), if known. */
  traceOf: (tenantId: string, sessionId: string) => string | undefined;
  effects: Omit<EffectDeps, 'signal'> | undefined;
  hooks: StepHooks;
}>;

type Performed = readonly SessionCommand[] | 'nothing' | Readonly<{ parked: number }>;

/** Builds `step` over the engine's `handle` and `load`. */
export const createStep = (deps: StepDeps) => {
  const runModel = async (
    hooks: StepHooks,
    effects: EffectDeps,
    ctx: EffectContext,
    action: ModelAction,
  ): Promise<Performed> => {
    const instead = await hooks.beforeModelCall?.({ ...ctx, action });
    if (instead) return [instead];
    const run = () => traceModelCall(ctx.state, action, () => runModelCall(effects, ctx.state, action));
    const command = await (hooks.aroundModelCall ? hooks.aroundModelCall(run, { ...ctx, action }) : run());
    if (!command) return [];
    if (command.data.outcome === 'failed' && command.data.error.retryable) {
      // Park instead of failing the turn: what the session did so far is in the log already.
      const delayMs = hooks.park?.({ tenantId: ctx.tenantId, sessionId: ctx.sessionId, action });
      if (delayMs !== undefined) return { parked: delayMs };
    }
    return [command];
  };

  const runTools = async (
    hooks: StepHooks,
    effects: EffectDeps,
    ctx: EffectContext,
    calls: readonly ToolCallAction[],
    lease: Lease | undefined,
    resumed: boolean,
  ): Promise<Performed> => {
    const { claimAttempt } = hooks;
    const results = await Promise.all(
      calls.map((call) => {
        // A non-idempotent tool gets a marker just before it runs (after its approval).
        const run = () =>
          traceToolCall(call, () =>
            runToolCall(effects, ctx.state, call, {
              resumed,
              ...(claimAttempt && lease ? { claimAttempt: () => claimAttempt(lease, call.toolCallId) } : {}),
            }),
          );
        return hooks.aroundToolCall ? hooks.aroundToolCall(run, { ...ctx, call }) : run();
      }),
    );
    return results.filter((command): command is SessionCommand => command !== null);
  };

  const perform = (
    hooks: StepHooks,
    effects: EffectDeps,
    ctx: EffectContext,
    lease: Lease | undefined,
    resumed: boolean,
  ): Promise<Performed> => {
    const action = nextAction(ctx.state);
    switch (action.kind) {
      case 'call_model':
      case 'select_speaker':
        return runModel(hooks, effects, ctx, action);
      case 'run_tools':
        return runTools(hooks, effects, ctx, action.calls, lease, resumed);
      case 'await_approval': {
        const decided = hooks.decideApprovals?.(ctx.state) ?? [];
        return Promise.resolve(decided.length > 0 ? decided : 'nothing');
      }
      default:
        return Promise.resolve('nothing');
    }
  };

  /**
   * Records the results through `handle`; its state feeds the next step (no reload). The results
   * were paid for: while the store is unavailable, each is tried again (`withUnavailableRetry`)
   * until the signal aborts, rather than dropped and the effect run again by the next delivery.
   */
  const record = async (
    hooks: StepHooks,
    ref: SessionRef,
    lease: Lease | undefined,
    signal: AbortSignal,
    state: Session,
    commands: readonly SessionCommand[],
  ): Promise<Session> => {
    let latest = state;
    for (const command of commands) {
      const ctx = {
        ...ref,
        ...(lease ? { lease } : {}),
        metadata: { ...hooks.metadata, correlationId: command.metadata.correlationId },
      };
      const handled = await withUnavailableRetry(() => deps.handle(command, ctx), signal);
      latest = handled.state;
    }
    return latest;
  };

  const stepSession = async (
    ref: SessionRef,
    lease: Lease | undefined,
    signal: AbortSignal,
    options: StepOptions,
    loaded: Session | undefined,
    span: StepSpan,
  ): Promise<StepOutcome> => {
    const base = options.effects ?? deps.effects;
    if (!base) throw new TypeError('step needs effects: give them to the engine or to this step');
    const effects: EffectDeps = { ...base, signal };
    const hooks = options.hooks ?? deps.hooks;
    let state = loaded;
    let steps = 0;
    const outcome = (status: StepOutcome['status'], delayMs?: number): StepOutcome => ({
      status,
      state,
      steps,
      ...(delayMs === undefined ? {} : { delayMs }),
    });
    try {
      while (state) {
        if (signal.aborted || options.keepGoing?.() === false) return outcome('aborted');
        if (options.maxSteps !== undefined && steps >= options.maxSteps) return outcome('limit');
        const resumed = !!options.resumed && steps === 0;
        span.follow(deps.traceOf(ref.tenantId, ref.sessionId));
        const current = state;
        const performed = await span.run(() =>
          perform(hooks, effects, { ...ref, state: current, signal }, lease, resumed),
        );
        if (performed === 'nothing') return outcome('idle');
        if ('parked' in performed) return outcome('parked', performed.parked);
        // Results of effects cut short by shutdown or a lost lease are dropped: the next owner
        // retries them (model calls, idempotent tools) or records them unknown-outcome. Calls cut
        // short because their turn was cancelled are recorded as aborted (decide keeps them once).
        if (signal.aborted) {
          const aborted = performed.filter(isAbortedOutcome);
          if (aborted.length > 0) state = await record(hooks, ref, lease, signal, state, aborted);
          return outcome('aborted');
        }
        steps += 1;
        if (performed.length > 0) {
          state = await span.run(() => record(hooks, ref, lease, signal, current, performed));
          continue;
        }
        // Nothing to record (the results were already recorded elsewhere): catch up, or stop.
        const fresh = await deps.load(ref.tenantId, ref.sessionId);
        if (!fresh || fresh.version === state.version) return outcome('idle');
        state = fresh;
      }
      return outcome('idle');
    } catch (error) {
      if (error instanceof LeaseLost) return outcome('lost');
      throw error;
    }
  };

  return async (
    ref: SessionRef,
    lease: Lease | undefined,
    signal: AbortSignal,
    options: StepOptions = {},
  ): Promise<StepOutcome> => {
    const loaded = options.loaded ?? (await deps.load(ref.tenantId, ref.sessionId));
    const span = createStepSpan(ref, options.traceparent, deps.traceOf(ref.tenantId, ref.sessionId));
    try {
      const outcome = await stepSession(ref, lease, signal, options, loaded, span);
      span.end(outcome);
      return outcome;
    } catch (error) {
      span.end(undefined, error);
      throw error;
    }
  };
};
