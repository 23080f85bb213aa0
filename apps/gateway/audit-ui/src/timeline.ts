import type { StoredEvent } from './api.ts';

/** The lane of events that belong to the session rather than to an agent (turns, termination). */
export const SESSION_LANE = 'session';
export const USER_LANE = 'user';

export type EntryKind = 'user' | 'speaker' | 'model' | 'tool' | 'approval' | 'handoff' | 'message' | 'turn';

export type TimelineEntry = Readonly<{
  version: number;
  lane: string;
  kind: EntryKind;
  title: string;
  /** Short facts shown as chips: model, tokens, latency, outcome. */
  facts: readonly string[];
  /** Longer text (content, arguments, result), shown pre-formatted. */
  body?: string;
  failed?: boolean;
}>;

export type Timeline = Readonly<{ lanes: readonly string[]; entries: readonly TimelineEntry[] }>;

type Data = Readonly<Record<string, unknown>>;
type SpecAgent = Readonly<{ name?: unknown; model?: Readonly<{ model?: unknown }> }>;

const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));
const str = (data: Data, key: string): string => text(data[key] ?? '');

/** What earlier events said about a call, so later events can name their agent and model. */
type Context = {
  models: Map<string, string>;
  callAgents: Map<string, string>;
  toolAgents: Map<string, string>;
};

const usage = (data: Data): string[] => {
  const used = data['usage'] as { promptTokens?: number; completionTokens?: number } | undefined;
  return used === undefined
    ? []
    : [`tokens ${used.promptTokens ?? 0} in · ${used.completionTokens ?? 0} out`];
};
const latency = (data: Data): string[] =>
  typeof data['latencyMs'] === 'number' ? [`${data['latencyMs']} ms`] : [];

const modelCompleted = (version: number, data: Data, ctx: Context): TimelineEntry => {
  const agent = ctx.callAgents.get(str(data, 'callId')) ?? SESSION_LANE;
  const calls = (data['toolCalls'] as readonly { name: string; arguments: string }[] | undefined) ?? [];
  const body = [
    ...(data['content'] === null || data['content'] === undefined ? [] : [str(data, 'content')]),
    ...calls.map((call) => `→\u00a0${call.name}(${call.arguments})`),
  ].join('\n');
  return {
    version,
    lane: agent,
    kind: 'model',
    title: 'Model call',
    facts: [ctx.models.get(agent) ?? 'model ?', ...usage(data), ...latency(data), str(data, 'finishReason')],
    ...(body === '' ? {} : { body }),
  };
};

const entryOf = (event: StoredEvent, ctx: Context): TimelineEntry | undefined => {
  const { version, data } = event;
  const toolLane = (): string => ctx.toolAgents.get(str(data, 'toolCallId')) ?? SESSION_LANE;
  switch (event.type) {
    case 'SessionStarted': {
      const spec = data['spec'] as { name?: string; type?: string; agents?: SpecAgent[] } | undefined;
      for (const agent of spec?.agents ?? [])
        ctx.models.set(text(agent.name), text(agent.model?.model ?? 'default model'));
      return {
        version,
        lane: SESSION_LANE,
        kind: 'turn',
        title: 'Session started',
        facts: [text(spec?.type ?? '')],
      };
    }
    case 'UserMessageReceived':
      return {
        version,
        lane: USER_LANE,
        kind: 'user',
        title: 'User message',
        facts: [],
        body: str(data, 'content'),
      };
    case 'SpeakerSelected':
      return {
        version,
        lane: str(data, 'agent'),
        kind: 'speaker',
        title: 'Selected to speak',
        facts: [str(data, 'method')],
      };
    case 'ModelCallRequested':
      ctx.callAgents.set(str(data, 'callId'), str(data, 'agent'));
      return undefined; // shown once, with its outcome
    case 'ModelCallCompleted':
      return modelCompleted(version, data, ctx);
    case 'ModelCallFailed':
      return {
        version,
        lane: ctx.callAgents.get(str(data, 'callId')) ?? SESSION_LANE,
        kind: 'model',
        title: 'Model call failed',
        facts: [str(data, 'type')],
        body: str(data, 'message'),
        failed: true,
      };
    case 'ToolCallRequested':
      ctx.toolAgents.set(str(data, 'toolCallId'), str(data, 'agent'));
      return {
        version,
        lane: str(data, 'agent'),
        kind: 'tool',
        title: `Tool call ${str(data, 'name')}`,
        facts: [],
        body: str(data, 'arguments'),
      };
    case 'ToolCallCompleted':
      return {
        version,
        lane: toolLane(),
        kind: 'tool',
        title: 'Tool result',
        facts: latency(data),
        body: str(data, 'result'),
      };
    case 'ToolCallFailed':
      return {
        version,
        lane: toolLane(),
        kind: 'tool',
        title: 'Tool failed',
        facts: [str(data, 'reason')],
        body: str(data, 'message'),
        failed: true,
      };
    case 'ToolApprovalRequested':
      return {
        version,
        lane: toolLane(),
        kind: 'approval',
        title: `Approval requested: ${str(data, 'name')}`,
        facts: [],
        body: str(data, 'arguments'),
      };
    case 'ToolApprovalGranted':
      return { version, lane: toolLane(), kind: 'approval', title: 'Approved', facts: [] };
    case 'ToolApprovalDenied':
      return {
        version,
        lane: toolLane(),
        kind: 'approval',
        title: 'Denied',
        facts: [],
        body: str(data, 'reason'),
        failed: true,
      };
    case 'HandoffOccurred':
      return {
        version,
        lane: str(data, 'from'),
        kind: 'handoff',
        title: `Handoff → ${str(data, 'to')}`,
        facts: [],
        body: str(data, 'message'),
      };
    case 'AgentMessageEmitted':
      if (data['messageType'] === 'handoff') return undefined; // the handoff entry says it
      return {
        version,
        lane: str(data, 'agent'),
        kind: 'message',
        title: 'Message',
        facts: [str(data, 'messageType')],
        body: str(data, 'content'),
      };
    default:
      return {
        version,
        lane: SESSION_LANE,
        kind: 'turn',
        title: sentence(event.type),
        facts: turnFacts(data),
      };
  }
};

/** `TurnCompleted` → `Turn completed`. */
const sentence = (type: string): string =>
  type.replace(/([a-z])([A-Z])/g, (_, a: string, b: string) => `${a} ${b.toLowerCase()}`);

const turnFacts = (data: Data): string[] =>
  ['reason', 'outcome'].flatMap((key) => (typeof data[key] === 'string' ? [text(data[key])] : []));

/** Events in version order → entries, one lane per agent (in team order), the user first. */
export const buildTimeline = (events: readonly StoredEvent[]): Timeline => {
  const ctx: Context = { models: new Map(), callAgents: new Map(), toolAgents: new Map() };
  const entries = events.flatMap((event) => entryOf(event, ctx) ?? []);
  const agents = [...ctx.models.keys()];
  const extra = [...new Set(entries.map((entry) => entry.lane))].filter(
    (lane) => lane !== USER_LANE && lane !== SESSION_LANE && !agents.includes(lane),
  );
  return { lanes: [USER_LANE, ...agents, ...extra, SESSION_LANE], entries };
};
