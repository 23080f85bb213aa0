import type { CommandMetadata, SessionCommand } from './session.commands.ts';
import { decide } from './session.decide.ts';
import type { SessionEvent } from './session.events.ts';
import { evolve } from './session.evolve.ts';
import { initialSession, type Session } from './session.state.ts';

/** One recorded event; `recordedAt` (the store's time) is the clock when the event carries no `at`. */
export type RecordedSessionEvent = SessionEvent & Readonly<{ recordedAt?: string }>;

export type DecisionReplay = Readonly<{
  /** Every recorded decision is the one today's `decide` makes from the same history. */
  matches: boolean;
  /** The first version (1-based) where the log and today's decision differ. */
  firstDivergentVersion?: number;
  /** The recorded event at that version (absent when the log ends before the decision). */
  recorded?: SessionEvent;
  /** What replay decided at that version (absent when it decided nothing there). */
  decided?: SessionEvent;
  /** Why the versions differ when it is not a plain event difference (e.g. `decide` threw). */
  error?: string;
  /** How many events were checked (the length of the history). */
  eventCount: number;
}>;

const atOf = (event: SessionEvent): string | undefined =>
  'at' in event.data && typeof event.data.at === 'string' ? event.data.at : undefined;

const meta = (now: Date, index: number): CommandMetadata => ({
  commandId: `replay:${index + 1}`,
  correlationId: 'replay',
  now,
});

/**
 * The outside input that produced the batch starting at `events[i]`: every model output, tool
 * result, approval, message, time and id comes from the log. A decision event at the start of a
 * batch can only come from a timeout check; anything else there is a divergence `decide` reports.
 */
const commandAt = (events: readonly SessionEvent[], i: number, state: Session, now: Date): SessionCommand => {
  const event = events[i]!;
  const m = meta(now, i);
  switch (event.type) {
    case 'SessionStarted': {
      const { sessionId, tenantId, teamId, spec, metadata } = event.data;
      return {
        type: 'StartSession',
        data: { sessionId, tenantId, teamId, spec, ...(metadata === undefined ? {} : { metadata }) },
        metadata: m,
      };
    }
    case 'SessionForked': {
      const { sessionId, tenantId, parentSessionId, atVersion, parentEvents } = event.data;
      return {
        type: 'ForkSession',
        data: { sessionId, tenantId, parentSessionId, atVersion, parentEvents },
        metadata: m,
      };
    }
    case 'UserMessageReceived':
      return {
        type: 'PostUserMessage',
        data: { messageId: event.data.messageId, content: event.data.content },
        metadata: m,
      };
    case 'ModelCallCompleted':
    case 'ModelCallFailed': {
      const selector = state.modelCalls[event.data.callId]?.purpose === 'select_speaker';
      const type = selector ? 'RecordSpeakerSelection' : 'RecordModelCall';
      if (event.type === 'ModelCallFailed') {
        const { callId, error, latencyMs } = event.data;
        return { type, data: { callId, outcome: 'failed', error, latencyMs }, metadata: m };
      }
      const { callId, content, toolCalls, usage, finishReason, latencyMs, model } = event.data;
      return {
        type,
        data: {
          callId,
          outcome: 'completed',
          content,
          toolCalls,
          usage,
          finishReason,
          latencyMs,
          ...(model === undefined ? {} : { model }),
        },
        metadata: m,
      };
    }
    case 'ToolCallCompleted': {
      const { toolCallId, result, latencyMs } = event.data;
      return {
        type: 'RecordToolResult',
        data: { toolCallId, outcome: 'completed', result, latencyMs },
        metadata: m,
      };
    }
    case 'ToolCallFailed': {
      const { toolCallId, reason, message, latencyMs } = event.data;
      return {
        type: 'RecordToolResult',
        data: { toolCallId, outcome: 'failed', reason, message, latencyMs },
        metadata: m,
      };
    }
    case 'ToolApprovalRequested':
      return { type: 'RequestApproval', data: { toolCallId: event.data.toolCallId }, metadata: m };
    case 'ToolApprovalGranted':
    case 'ToolApprovalDenied': {
      if (event.type === 'ToolApprovalDenied' && event.data.timedOut === true)
        return { type: 'CheckTimeout', data: {}, metadata: m };
      const { toolCallId, actor, reason } = event.data;
      return {
        type: 'DecideApproval',
        data: {
          toolCallId,
          approve: event.type === 'ToolApprovalGranted',
          ...(actor === undefined ? {} : { actor }),
          ...(reason === undefined ? {} : { reason }),
        },
        metadata: m,
      };
    }
    case 'TurnCancelled':
      return { type: 'CancelTurn', data: { reason: event.data.reason }, metadata: m };
    case 'SessionClosed':
      return closeCommand(event, m);
    case 'SessionStalled':
      return { type: 'MarkStalled', data: { reason: event.data.reason }, metadata: m };
    default:
      return { type: 'CheckTimeout', data: {}, metadata: m };
  }
};

/**
 * A cancelled turn starts the batch of a cancel, of a close (followed by `SessionClosed`) or of an
 * interrupting message (followed by `UserMessageReceived`): the candidate whose decision matches
 * the log is the input that was given.
 */
const candidatesAt = (
  events: readonly SessionEvent[],
  i: number,
  state: Session,
  now: Date,
): SessionCommand[] => {
  const first = commandAt(events, i, state, now);
  const next = events[i + 1];
  if (events[i]!.type !== 'TurnCancelled' || next === undefined) return [first];
  if (next.type === 'SessionClosed') return [closeCommand(next, meta(now, i)), first];
  if (next.type === 'UserMessageReceived') return [commandAt(events, i + 1, state, now), first];
  return [first];
};

const closeCommand = (
  event: Extract<SessionEvent, { type: 'SessionClosed' }>,
  metadata: CommandMetadata,
): SessionCommand => ({
  type: 'CloseSession',
  data: event.data.reason === undefined ? {} : { reason: event.data.reason },
  metadata,
});

const matchesLog = (events: readonly SessionEvent[], i: number, decided: readonly SessionEvent[]): boolean =>
  decided.length > 0 && decided.every((event, k) => same(events[i + k], event));

/** The decision of the input at `i`: the first candidate that reproduces the log, else the first. */
const decideBatch = (
  events: readonly SessionEvent[],
  i: number,
  state: Session,
  now: Date,
): readonly SessionEvent[] => {
  const candidates = candidatesAt(events, i, state, now);
  let firstDecision: readonly SessionEvent[] | undefined;
  let firstError: unknown;
  for (const [n, command] of candidates.entries()) {
    try {
      const decided = decide(command, state);
      if (matchesLog(events, i, decided)) return decided;
      if (n === 0) firstDecision = decided;
    } catch (error) {
      if (n === 0) firstError = error;
    }
  }
  if (firstDecision === undefined) throw firstError;
  return firstDecision;
};

/**
 * Deep equality as canonical JSON sees it (key order and `undefined` members ignored), without
 * serialising: recorded inputs copied into decisions (the spec, tool calls) compare by identity.
 */
const sameValue = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameValue(item, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = Object.keys(ra).filter((k) => ra[k] !== undefined);
  if (keys.length !== Object.keys(rb).filter((k) => rb[k] !== undefined).length) return false;
  return keys.every((k) => sameValue(ra[k], rb[k]));
};

const same = (a: SessionEvent | undefined, b: SessionEvent | undefined): boolean =>
  a !== undefined && b !== undefined && a.type === b.type && sameValue(a.data, b.data);

const strip = (event: RecordedSessionEvent): SessionEvent =>
  ({ type: event.type, data: event.data }) as SessionEvent;

/**
 * Decision replay: re-runs `decide` over the recorded history, one outside input at a time (model
 * outputs, tool results, approvals, messages, cancels, times and ids all from the log, so no model
 * or tool can be called), and checks every recorded decision is the one today's code makes. The
 * team spec is the one recorded in `SessionStarted`, so a session pinned to an older spec replays
 * with it. Like Temporal's non-determinism check, a mismatch names the first divergent version.
 */
export const replayDecisions = (history: readonly RecordedSessionEvent[]): DecisionReplay => {
  const events = history.map(strip);
  let state = initialSession();
  let now = new Date(0);
  let i = 0;
  while (i < events.length) {
    const trigger = history[i]!;
    const triggerTime = atOf(events[i]!) ?? trigger.recordedAt;
    if (triggerTime !== undefined) now = new Date(triggerTime);
    let decided: readonly SessionEvent[];
    try {
      decided = decideBatch(events, i, state, now);
      // The batch's own stamped time is the clock the original decision saw.
      const stamped = events
        .slice(i, i + decided.length)
        .map(atOf)
        .find((at) => at !== undefined);
      if (stamped !== undefined && stamped !== now.toISOString()) {
        now = new Date(stamped);
        decided = decideBatch(events, i, state, now);
      }
    } catch (error) {
      return {
        matches: false,
        firstDivergentVersion: i + 1,
        recorded: events[i]!,
        error: error instanceof Error ? error.message : String(error),
        eventCount: events.length,
      };
    }
    if (decided.length === 0) {
      return {
        matches: false,
        firstDivergentVersion: i + 1,
        recorded: events[i]!,
        eventCount: events.length,
      };
    }
    for (let k = 0; k < decided.length; k++) {
      const recorded = events[i + k];
      if (!same(recorded, decided[k])) {
        return {
          matches: false,
          firstDivergentVersion: i + k + 1,
          ...(recorded === undefined ? {} : { recorded }),
          decided: decided[k]!,
          eventCount: events.length,
        };
      }
    }
    state = decided.reduce(evolve, state);
    i += decided.length;
  }
  return { matches: true, eventCount: events.length };
};
