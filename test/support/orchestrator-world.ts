import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { teamSpecSchema, type CommandMetadata, type TeamSpec } from '@agentledger/agents';
import { startFakeOpenAIServer, type FakeOpenAIServer, type FakeReply } from '@agentledger/agents/testing';
import { parseSessionStreamId, sessionStreamId } from '@agentledger/events';
import { ensureKafkaTopic } from '@agentledger/events/kafka';
import { createPostgresEventStore, type PostgresEventStore } from '@agentledger/events/postgres';
import { assertStoredSessionsReplay, createSessionEngine, type SessionEngine } from '@agentledger/sessions';
import { createSqlSessionIndex } from '@agentledger/sessions/sql';
import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import { LEDGER_TABLE } from './ledger-table.ts';
import { startOrchestratorProcess, type OrchestratorProcess } from './orchestrator-process.ts';

const TENANT = 'tenant-e2e';
const toolsModule = fileURLToPath(new URL('./ledger-tools.ts', import.meta.url));

type OpenAIMessage = { role: string; content?: string | null };
type OpenAIBody = { messages: OpenAIMessage[]; tools?: { function: { name: string } }[] };

/**
 * A model on the wire that is a pure function of its request, so any replica answers alike before
 * and after a crash: to a user message it calls the first offered tool with `{ text }`; to a tool
 * result it answers `done: …`. `delayMs` slows chosen requests (by the last user message);
 * in-flight requests are counted.
 */
const wireModel = (fake: FakeOpenAIServer, delayMs: (text: string) => number) => {
  let inFlight = 0;
  let peak = 0;
  fake.setFallback((raw): FakeReply => {
    const body = raw as OpenAIBody;
    const last = body.messages.at(-1);
    const text = typeof last?.content === 'string' ? last.content : '';
    const delay = delayMs(body.messages.findLast((m) => m.role === 'user')?.content ?? '');
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    // Counted until just before the reply is sent: the client cannot start its next call earlier.
    setTimeout(() => (inFlight -= 1), Math.max(1, delay - 2));
    const tool = body.tools?.[0]?.function.name;
    if (last?.role === 'user' && tool)
      return {
        kind: 'message',
        toolCalls: [{ name: tool, arguments: JSON.stringify({ text }) }],
        delayMs: delay,
      };
    return { kind: 'message', content: `done: ${text}`, delayMs: delay };
  });
  return { peak: () => peak };
};

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

export type WorldOptions = Readonly<{
  adminUrl: string;
  brokers: string;
  runId: string;
  name: string;
  /** Model latency per task text (the session's first user message). */
  modelDelayMs?: (task: string) => number;
  env?: Readonly<Record<string, string>>;
}>;

export type OrchestratorWorld = Awaited<ReturnType<typeof createOrchestratorWorld>>;

/**
 * Everything an orchestrator e2e scenario needs: a fresh database, its own topic and group, the
 * fake OpenAI endpoint, orchestrator processes, and a repository that plays the gateway's part.
 */
export const createOrchestratorWorld = async (options: WorldOptions) => {
  const database: TestDatabase = await createTestDatabase(options.adminUrl, options.name);
  const store: PostgresEventStore = await createPostgresEventStore({
    connectionString: database.url,
    maxConnections: 4,
    migrate: true,
  });
  await store.pool.query(LEDGER_TABLE);
  const topic = `e2e.${options.name}.${options.runId}`;
  const brokers = options.brokers.split(',');
  await ensureKafkaTopic({ brokers, topic, partitions: 12 });
  const fake = await startFakeOpenAIServer();
  const model = wireModel(fake, options.modelDelayMs ?? (() => 0));
  const repository: SessionEngine = createSessionEngine({
    store,
    index: createSqlSessionIndex(store.db),
    partitions: 12,
  });
  const processes: OrchestratorProcess[] = [];
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    KAFKA_BROKERS: options.brokers,
    KAFKA_TOPIC: topic,
    KAFKA_PARTITIONS: '12',
    // The cross-process suites run on either Kafka client: KAFKA_CLIENT=platformatic npx vitest run test/orchestrator
    KAFKA_CLIENT: process.env.KAFKA_CLIENT ?? 'kafkajs',
    ORCHESTRATOR_GROUP: `orch-${options.name}-${options.runId}`,
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test-key-not-secret',
    TOOLS_MODULE: toolsModule,
    LEDGER_DATABASE_URL: database.url,
    // Small pools: several scenarios may run at once against one server (max_connections 100).
    DATABASE_POOL_SIZE: '5',
    LEASE_TTL_MS: '3000',
    RECOVERY_INTERVAL_MS: '500',
    ...options.env,
  };
  let commands = 0;
  const meta = (): CommandMetadata => {
    commands += 1;
    return { commandId: `test-${commands}`, correlationId: `test-${commands}`, now: new Date() };
  };
  const team = (
    tool: string,
    onBusy = 'enqueue',
    agent: Readonly<Record<string, unknown>> = {},
    fields: Readonly<Record<string, unknown>> = {},
  ): TeamSpec =>
    teamSpecSchema.parse({
      specVersion: 1,
      name: `${tool}-team`,
      type: 'single',
      onBusy,
      ...fields,
      agents: [
        {
          name: 'clerk',
          tools: [tool],
          model: { provider: 'openai', model: 'fake-model', maxRetries: 0 },
          ...agent,
        },
      ],
    });

  return {
    /** What every orchestrator process of this world is started with. */
    env: env as Readonly<Record<string, string>> & { DATABASE_URL: string },
    store,
    repository,
    fake,
    modelPeak: model.peak,
    start: async (replicaId: string, extraEnv: Readonly<Record<string, string>> = {}) => {
      const started = await startOrchestratorProcess(replicaId, await freePort(), { ...env, ...extraEnv });
      processes.push(started);
      return started;
    },
    /**
     * `agent` overrides fields of the one agent (e.g. pinned `mcpTools`, as the gateway writes them),
     * `fields` fields of the team (e.g. `limits`, `approvals`).
     */
    startSession: async (
      sessionId: string,
      tool: string,
      onBusy?: 'enqueue' | 'interrupt',
      agent?: Readonly<Record<string, unknown>>,
      fields?: Readonly<Record<string, unknown>>,
    ) => {
      await repository.handle(
        {
          type: 'StartSession',
          data: {
            sessionId,
            tenantId: TENANT,
            teamId: `${tool}-team`,
            spec: team(tool, onBusy, agent, fields),
          },
          metadata: meta(),
        },
        { tenantId: TENANT, sessionId: sessionId },
      );
    },
    post: async (sessionId: string, content: string) => {
      await repository.handle(
        {
          type: 'PostUserMessage',
          data: { messageId: `${sessionId}:${content}`, content },
          metadata: meta(),
        },
        { tenantId: TENANT, sessionId: sessionId, idempotencyKey: `${sessionId}:${content}` },
      );
    },
    /** What the gateway's cancel does: `CancelTurn` appended to the log (the relay publishes it). */
    cancel: async (sessionId: string) => {
      await repository.handle(
        { type: 'CancelTurn', data: { reason: 'cancelled by the test' }, metadata: meta() },
        { tenantId: TENANT, sessionId },
      );
    },
    /** What the gateway's close does (a running turn is cancelled first). */
    closeSession: async (sessionId: string) => {
      await repository.handle(
        { type: 'CloseSession', data: {}, metadata: meta() },
        { tenantId: TENANT, sessionId },
      );
    },
    load: (sessionId: string) => repository.load(TENANT, sessionId),
    /** The session's recorded events, in order. */
    events: async (sessionId: string) => {
      const { rows } = await store.pool.query<{ type: string; data: Record<string, unknown> }>(
        'select type, data from events where stream_id = $1 order by version',
        [sessionStreamId(TENANT, sessionId)],
      );
      return rows;
    },
    /** Completed turns per session id. */
    completedTurns: async (): Promise<Map<string, number>> => {
      const { rows } = await store.pool.query<{ stream_id: string; turns: string }>(
        `select stream_id, count(*) as turns from events where type = 'TurnCompleted' group by stream_id`,
      );
      return new Map(rows.map((r) => [parseSessionStreamId(r.stream_id)!.sessionId, Number(r.turns)]));
    },
    /**
     * Why these sessions have not completed `turns` turns: each one's read-model row (status,
     * version, pending work, lease) and the tail of every process' output. For a wait's message.
     */
    describeUnfinished: async (ids: readonly string[], turns = 1): Promise<string> => {
      const { rows } = await store.pool.query<{ stream_id: string; turns: string }>(
        `select stream_id, count(*) as turns from events where type = 'TurnCompleted' group by stream_id`,
      );
      const done = new Map(rows.map((r) => [parseSessionStreamId(r.stream_id)!.sessionId, Number(r.turns)]));
      const unfinished = ids.filter((id) => (done.get(id) ?? 0) < turns);
      const { rows: sessions } = await store.pool.query<Record<string, unknown>>(
        `select session_id, status, version, pending_work, partition, lease_owner, lease_expires_at < now() as lease_expired
         from sessions where tenant_id = $1 and session_id = any($2)`,
        [TENANT, unfinished],
      );
      const outputs = processes.map(
        (p) =>
          `--- ${p.replicaId} (exit ${p.child.exitCode ?? p.child.signalCode ?? 'running'}):\n${p.output().slice(-1_500)}`,
      );
      return `${unfinished.length} of ${ids.length} unfinished: ${JSON.stringify(sessions.slice(0, 10))}\n${outputs.join('\n')}`;
    },
    /** Invariants over the whole log: contiguous versions, one outcome per model and tool call. */
    auditLog: async () => {
      const { rows: gaps } = await store.pool.query(
        `select stream_id from events group by stream_id having max(version) <> count(*) or min(version) <> 1`,
      );
      const { rows: duplicateOutcomes } = await store.pool.query(
        `select stream_id, coalesce(data->>'toolCallId', data->>'callId') as id, count(*) from events
         where type in ('ToolCallCompleted','ToolCallFailed','ModelCallCompleted')
         group by 1, 2 having count(*) > 1`,
      );
      const { rows: ledger } = await store.pool.query<{
        key: string;
        tool: string;
        executions: number;
        runs: string[];
      }>('select key, tool, executions, runs from ledger');
      return { gaps, duplicateOutcomes, ledger };
    },
    /**
     * Stops the processes, then replays the decisions of every session of this world (each suite
     * replays what it produced) and throws, naming the divergent session and version, on a
     * mismatch; the database and topic are removed either way.
     */
    close: async () => {
      for (const p of processes)
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(processes.map((p) => p.exited));
      try {
        await assertStoredSessionsReplay(store);
      } finally {
        await fake.close();
        await store.close();
        await database.drop();
        const admin = new Kafka({ clientId: 'e2e-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
        await admin.connect();
        await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
        await admin.disconnect();
      }
    },
  };
};
