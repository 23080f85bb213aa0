import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { teamSpecSchema, type TeamSpec } from '@agentledger/agents';
import { sessionStreamId } from '@agentledger/events';
import { createInProcessEventBus, quietLogger } from '@agentledger/events/bus';
import {
  createOrchestratorRuntime,
  orchestratorRuntimeConfigSchema,
  parseRuntimeConfig,
} from '@agentledger/orchestrator/runtime';
import { createPostgresEventStore, ignoreClientErrors, runMigrations } from '@agentledger/events/postgres';
import { createSqlSessionIndex } from '@agentledger/sessions/sql';
import { createTestDatabase, eventually } from '@agentledger/testing';
import { requireKafka, type KafkaClient } from './kafka-preflight.ts';
import { machineCpu, processCpuMs } from './proc.ts';
import { walPosition, walWritten } from './wal.ts';
import { busyPercent, machineCeiling, percentile, round, spreadsOf } from './stats.ts';

/**
 * `npm run bench -- turns [--scenario a,b,c] [--sessions N --turns M] [--rounds R] [--cpu-prof]`: the peer
 * scenario (a turn = user message → the model asks for one tool → the tool → the model answers;
 * the built-in scripted model and calculator, zero latency, in process) through
 *   a) the orchestrator runtime in this process on Postgres with the in-process bus (session
 *      session engine + SQL read model + outbox relay + orchestrator, as the product composes them),
 *   b) the distributed product over REST (gateway process + one orchestrator process + Kafka),
 *   c) the embedded product over REST (`apps/standalone`, PGlite),
 * against plain `pg` baselines (one transaction per turn, one per step) and, for c, the same on
 * PGlite. Prints turns/s, p50/p99 turn latency, commits and WAL bytes per turn (Postgres only) and
 * CPU ms per turn of the product processes; writes bench/results/turns.json.
 */

export const usage = `usage: npm run bench -- turns [options]
  --scenario a,b,c   which product paths (default a,b,c; baselines always run)
                       a = orchestrator runtime in process on Postgres + in-process bus
                       b = gateway + one orchestrator process + Kafka, over REST
                       c = embedded product (standalone app, PGlite), over REST
  --sessions N       concurrent sessions (with --turns; default: the shapes 50x20, 200x10 and
                       1x100, the last for single-session latency)
  --turns M          turns per session
  --rounds R         measure every shape R times in a row, baselines and products alike (default
                       1); prints each round's ratios, then each ratio's median and range
  --kafka-client C   b's orchestrator Kafka client: kafkajs (default, the product's) or platformatic
  --cpu-prof         pass node's --cpu-prof to spawned product processes (b, c) and profile this
                     process for a; profiles land in bench/results/cpu-prof/ (the last round's)
  --help             this text
env: DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/postgres),
     KAFKA_BROKERS (default 127.0.0.1:9092); apps are run from dist/ (npm run build first)`;

const root = fileURLToPath(new URL('..', import.meta.url));
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const TENANT = 'bench';
const KEY = 'bench-key-not-secret';
const TEAM = 'calc-team';
const PROF_DIR = fileURLToPath(new URL('./results/cpu-prof/', import.meta.url));
/** The per-key rate limit (default 50/s) would cap the product, not measure it. */
const UNLIMITED = { RATE_LIMIT_PER_SECOND: '1000000', RATE_LIMIT_BURST: '1000000' };

type Shape = Readonly<{ sessions: number; turns: number }>;
type Options = Readonly<{
  scenarios: readonly string[];
  shapes: readonly Shape[];
  /** Each shape measured this many times in a row (the machine's noise shows as the range). */
  rounds: number;
  kafkaClient: KafkaClient;
  cpuProf: boolean;
}>;

type RunResult = {
  name: string;
  sessions: number;
  turnsPerSession: number;
  turns: number;
  seconds: number;
  turnsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  commitsPerTurn: number | null;
  walBytesPerTurn: number | null;
  cpuMsPerTurn: number | null;
  /** b: the same per product process (gateway, orchestrator). */
  cpuMsPerTurnByProcess?: Readonly<Record<string, number>>;
  /** The whole machine while it ran (Postgres, Kafka and the driver included): busy % and CPU ms per turn. */
  machineBusyPercent: number;
  machineCpuMsPerTurn: number | null;
};

export const parseTurnsArgs = (args: readonly string[]): Options | 'help' => {
  const value = (flag: string): string | undefined => {
    const index = args.indexOf(flag);
    return index < 0 ? undefined : args[index + 1];
  };
  if (args.includes('--help')) return 'help';
  const scenarios = (value('--scenario') ?? 'a,b,c').split(',').map((s) => s.trim());
  for (const s of scenarios) if (!['a', 'b', 'c'].includes(s)) throw new Error(`--scenario: unknown "${s}"`);
  const sessions = value('--sessions');
  const turns = value('--turns');
  const positive = (flag: string, text: string | undefined): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`${flag}: expected a positive integer, got "${text}"`);
    return n;
  };
  const shapes =
    sessions === undefined && turns === undefined
      ? [
          { sessions: 50, turns: 20 },
          { sessions: 200, turns: 10 },
          // One session alone: its p50 against the per-step baseline's is the latency target.
          { sessions: 1, turns: 100 },
        ]
      : [{ sessions: positive('--sessions', sessions ?? '50'), turns: positive('--turns', turns ?? '20') }];
  const kafkaClient = value('--kafka-client') ?? 'kafkajs';
  if (kafkaClient !== 'kafkajs' && kafkaClient !== 'platformatic')
    throw new Error(`--kafka-client: kafkajs or platformatic, got "${kafkaClient}"`);
  return {
    scenarios,
    shapes,
    rounds: positive('--rounds', value('--rounds') ?? '1'),
    kafkaClient,
    cpuProf: args.includes('--cpu-prof'),
  };
};

const MESSAGE = (session: number, turn: number): string => `What is ${session} * ${turn + 2}?`;

const teamSpec = (): TeamSpec =>
  teamSpecSchema.parse({
    specVersion: 1,
    name: TEAM,
    type: 'single',
    agents: [
      {
        name: 'clerk',
        systemMessage: 'Use the calculator. Say TERMINATE when done.',
        model: { provider: 'openai', model: 'gpt-4o-mini' },
        tools: ['calculator'],
      },
    ],
    termination: { kind: 'text_mention', text: 'TERMINATE' },
  });

type Driven = Readonly<{ latencies: number[]; seconds: number; busyJiffies: number; busyPercent: number }>;

/**
 * Runs every session's turns one after another, all sessions at once; returns the turn latencies
 * and what the whole machine was busy with meanwhile.
 */
const drive = async (
  shape: Shape,
  turn: (session: number, index: number) => Promise<void>,
): Promise<Driven> => {
  const latencies: number[] = [];
  const machine = await machineCpu();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: shape.sessions }, async (_, session) => {
      for (let index = 0; index < shape.turns; index += 1) {
        const t0 = performance.now();
        await turn(session, index);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const after = await machineCpu();
  return {
    latencies: latencies.sort((a, b) => a - b),
    seconds,
    busyJiffies: after.busy - machine.busy,
    busyPercent: busyPercent(machine, after),
  };
};

/** User + system CPU milliseconds of processes so far, from /proc (Linux). */
const processesCpuMs = async (pids: readonly number[]): Promise<number> =>
  (await Promise.all(pids.map(processCpuMs))).reduce((sum, ms) => sum + ms, 0);

const result = (
  name: string,
  shape: Shape,
  run: Driven,
  extra: {
    commits?: number | undefined;
    wal?: number;
    cpuMs?: number;
    cpuMsByProcess?: Record<string, number>;
  },
): RunResult => {
  const turns = shape.sessions * shape.turns;
  const byProcess = extra.cpuMsByProcess;
  return {
    name,
    sessions: shape.sessions,
    turnsPerSession: shape.turns,
    turns,
    seconds: round(run.seconds),
    turnsPerSecond: round(turns / run.seconds, 1),
    p50Ms: round(percentile(run.latencies, 50)),
    p99Ms: round(percentile(run.latencies, 99)),
    commitsPerTurn: extra.commits === undefined ? null : round(extra.commits / turns),
    walBytesPerTurn: extra.wal === undefined ? null : round(extra.wal / turns, 0),
    cpuMsPerTurn: extra.cpuMs === undefined ? null : round(extra.cpuMs / turns),
    ...(byProcess === undefined
      ? {}
      : {
          cpuMsPerTurnByProcess: Object.fromEntries(
            Object.entries(byProcess).map(([name, ms]) => [name, round(ms / turns)]),
          ),
        }),
    machineBusyPercent: run.busyPercent,
    machineCpuMsPerTurn:
      machineCeiling(run.busyJiffies, turns, availableParallelism())?.machineCpuMsPerTurn ?? null,
  };
};

/**
 * What a turn writes, step by step, as the product records it (user message; the model's tool
 * call; the tool's result; the model's answer and the turn's end). The baselines write these rows
 * and move a session row per step; the "model" and "tool" run in between, in process.
 */
const STEPS = (session: number, turn: number): readonly (readonly [string, unknown])[][] => [
  [
    ['UserMessagePosted', { content: MESSAGE(session, turn) }],
    ['TurnStarted', { turn }],
  ],
  [
    ['ModelCallCompleted', { usage: { promptTokens: 40, completionTokens: 12 } }],
    [
      'ToolCallRequested',
      { id: 'call_1', name: 'calculator', arguments: `{"a":${session},"b":${turn + 2},"operator":"*"}` },
    ],
  ],
  [['ToolCallCompleted', { id: 'call_1', result: String(session * (turn + 2)) }]],
  [
    ['ModelCallCompleted', { usage: { promptTokens: 60, completionTokens: 10 } }],
    ['AgentMessageEmitted', { content: `The result is ${session * (turn + 2)}. TERMINATE` }],
    ['TurnCompleted', { turn }],
  ],
];

const BASELINE_SCHEMA = [
  'create table if not exists raw_events (global_position bigint generated always as identity primary key, session_id text not null, version integer not null, type text not null, data jsonb not null, unique (session_id, version))',
  'create table if not exists raw_sessions (session_id text primary key, version integer not null, status text not null)',
];

type Exec = (text: string, values: unknown[]) => Promise<unknown>;

/** One step's writes: its events, then the session row (optimistic: the version must match). */
const writeStep = async (
  exec: Exec,
  id: string,
  version: number,
  events: readonly (readonly [string, unknown])[],
) => {
  const values: unknown[] = [id];
  const rows = events.map(([type, data], index) => {
    values.push(version + index + 1, type, JSON.stringify(data));
    return `($1, $${index * 3 + 2}, $${index * 3 + 3}, $${index * 3 + 4}::jsonb)`;
  });
  await exec(`insert into raw_events (session_id, version, type, data) values ${rows.join(', ')}`, values);
  await exec('update raw_sessions set version = $2, status = $3 where session_id = $1 and version = $4', [
    id,
    version + events.length,
    'running',
    version,
  ]);
  return version + events.length;
};

/** Stand-ins for the zero-latency model and tool between steps. */
const think = (session: number, turn: number): string =>
  JSON.stringify({ a: session, b: turn + 2, result: session * (turn + 2) });

type Baseline = Readonly<{
  begin: () => Promise<{ exec: Exec; commit: () => Promise<void> }>;
  exec: Exec;
}>;

/** Creates the sessions' rows (before the measured part). */
const baselineSessions = async (baseline: Baseline, shape: Shape, id: (session: number) => string) => {
  for (let session = 0; session < shape.sessions; session += 1)
    await baseline.exec('insert into raw_sessions (session_id, version, status) values ($1, 0, $2)', [
      id(session),
      'idle',
    ]);
};

const runBaseline = (
  baseline: Baseline,
  shape: Shape,
  mode: 'turn' | 'step',
  id: (session: number) => string,
) => {
  const versions = new Array<number>(shape.sessions).fill(0);
  return drive(shape, async (session, turn) => {
    const steps = STEPS(session, turn);
    if (mode === 'turn') {
      const tx = await baseline.begin();
      let version = versions[session] ?? 0;
      for (const events of steps) {
        think(session, turn);
        version = await writeStep(tx.exec, id(session), version, events);
      }
      await tx.commit();
      versions[session] = version;
      return;
    }
    for (const events of steps) {
      think(session, turn);
      const tx = await baseline.begin();
      versions[session] = await writeStep(tx.exec, id(session), versions[session] ?? 0, events);
      await tx.commit();
    }
  });
};

const pgBaseline = (pool: pg.Pool): Baseline => ({
  exec: (text, values) => pool.query(text, values),
  begin: async () => {
    const client = await pool.connect();
    await client.query('begin');
    return {
      exec: (text, values) => client.query(text, values),
      commit: async () => {
        try {
          await client.query('commit');
        } finally {
          client.release();
        }
      },
    };
  },
});

/** PGlite is one connection: transactions queue, as they do inside the embedded product. */
const pgliteBaseline = (db: PGlite): Baseline => {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    exec: (text, values) => db.query(text, values),
    begin: async () => {
      let release!: () => void;
      const previous = tail;
      tail = new Promise<void>((resolve) => (release = resolve));
      await previous;
      await db.exec('begin');
      return {
        exec: (text, values) => db.query(text, values),
        commit: async () => {
          try {
            await db.exec('commit');
          } finally {
            release();
          }
        },
      };
    },
  };
};

/** Baselines on Postgres, measured like the product: commits, WAL and this process' CPU. */
const pgBaselines = async (admin: pg.Client, shape: Shape): Promise<RunResult[]> => {
  const database = await createTestDatabase(ADMIN_URL, 'bench_turns_raw');
  const out: RunResult[] = [];
  // A pool per phase, ended before counters are read: a backend reports its commits when it exits.
  const withPool = async <T>(work: (pool: pg.Pool) => Promise<T>): Promise<T> => {
    const pool = new pg.Pool({ connectionString: database.url, max: 20 });
    ignoreClientErrors(pool);
    try {
      return await work(pool);
    } finally {
      await pool.end();
    }
  };
  try {
    await withPool(async (pool) => {
      for (const statement of BASELINE_SCHEMA) await pool.query(statement);
    });
    for (const mode of ['turn', 'step'] as const) {
      const id = (session: number): string => `${mode}-${session}`;
      await withPool((pool) => baselineSessions(pgBaseline(pool), shape, id));
      const before = await walPosition(admin);
      const cpu = process.cpuUsage();
      const run = await withPool((pool) => runBaseline(pgBaseline(pool), shape, mode, id));
      const used = process.cpuUsage(cpu);
      const written = await walWritten(database.url, before, await walPosition(admin));
      out.push(result(`pg tx/${mode}`, shape, run, { ...written, cpuMs: (used.user + used.system) / 1000 }));
    }
  } finally {
    await database.drop();
  }
  return out;
};

/**
 * Backends report their commit counts to the statistics at most once a second (or when they
 * exit): poll until the count stops moving.
 */
const pgliteBaselines = async (shape: Shape): Promise<RunResult[]> => {
  const dir = await mkdtemp(join(tmpdir(), 'agentledger-bench-pglite-'));
  const db = await PGlite.create(dir);
  const out: RunResult[] = [];
  try {
    for (const statement of BASELINE_SCHEMA) await db.exec(statement);
    for (const mode of ['turn', 'step'] as const) {
      const id = (session: number): string => `${mode}-${session}`;
      await baselineSessions(pgliteBaseline(db), shape, id);
      const cpu = process.cpuUsage();
      const run = await runBaseline(pgliteBaseline(db), shape, mode, id);
      const used = process.cpuUsage(cpu);
      out.push(result(`pglite tx/${mode}`, shape, run, { cpuMs: (used.user + used.system) / 1000 }));
    }
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
  return out;
};

/** Profiles this process (scenario a) through the inspector; returns a function that writes the profile. */
const profileThisProcess = async (name: string): Promise<() => Promise<void>> => {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    await mkdir(PROF_DIR, { recursive: true });
    await writeFile(join(PROF_DIR, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
};

/** a) The orchestrator runtime in this process on Postgres with the in-process bus. */
const scenarioA = async (admin: pg.Client, shape: Shape, options: Options): Promise<RunResult> => {
  const database = await createTestDatabase(ADMIN_URL, 'bench_turns_a');
  await runMigrations(database.url);
  const store = await createPostgresEventStore({ connectionString: database.url, maxConnections: 10 });
  const bus = createInProcessEventBus({ partitions: 12 });
  // The product's own runtime composition, with its defaults (the scripted model answers the
  // `default` endpoint when no OPENAI_* is set); only the replica id and the drain are the bench's.
  const config = parseRuntimeConfig(
    orchestratorRuntimeConfigSchema,
    { REPLICA_ID: 'bench-a', SHUTDOWN_DEADLINE_MS: '5000' },
    'bench configuration',
  );
  const runtime = await createOrchestratorRuntime({
    store,
    index: createSqlSessionIndex(store.db),
    bus,
    config,
    logger: quietLogger,
    env: {},
  });
  const { engine } = runtime;
  // Turn ends, seen on the bus as the orchestrator sees them.
  const waiters = new Map<string, () => void>();
  await bus.subscribe('bench-observer', async ({ envelope }) => {
    if (envelope.type === 'TurnCompleted' || envelope.type === 'TurnFailed')
      waiters.get(envelope.streamId)?.();
  });
  await runtime.start();
  let commands = 0;
  const meta = () => ({ commandId: `b${++commands}`, correlationId: `b${commands}`, now: new Date() });
  const spec = teamSpec();
  const sessionId = (session: number): string => `a-${session}`;
  try {
    for (let session = 0; session < shape.sessions; session += 1) {
      const id = sessionId(session);
      await engine.handle(
        {
          type: 'StartSession',
          data: { sessionId: id, tenantId: TENANT, teamId: TEAM, spec },
          metadata: meta(),
        },
        { tenantId: TENANT, sessionId: id },
      );
    }
    const before = await walPosition(admin);
    const cpu = process.cpuUsage();
    const stop = options.cpuProf ? await profileThisProcess(`a-${shape.sessions}x${shape.turns}`) : undefined;
    const run = await drive(shape, async (session, turn) => {
      const id = sessionId(session);
      const done = new Promise<void>((resolve) => waiters.set(sessionStreamId(TENANT, id), resolve));
      await engine.handle(
        {
          type: 'PostUserMessage',
          data: { messageId: `${id}:${turn}`, content: MESSAGE(session, turn) },
          metadata: meta(),
        },
        { tenantId: TENANT, sessionId: id },
      );
      await done;
    });
    const used = process.cpuUsage(cpu);
    // Every turn's appends committed before its end was seen: the run's WAL ends here.
    const after = await walPosition(admin);
    await stop?.();
    await runtime.stop();
    await bus.close();
    await store.close();
    const written = await walWritten(database.url, before, after);
    return result('a runtime+pg', shape, run, { ...written, cpuMs: (used.user + used.system) / 1000 });
  } finally {
    await runtime.stop().catch(() => undefined);
    await bus.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    await database.drop();
  }
};

type Child = Readonly<{ child: ChildProcess; output: () => string; exited: Promise<unknown> }>;

/**
 * Waits until an app answers `/health/ready` (the apps announce their URLs at info level; the
 * bench runs them at warn, without request logs, so it picks their ports).
 */
const waitReady = (app: Child, url: string, what: string): Promise<true> =>
  eventually(
    `${what} to be ready`,
    async () => {
      if (app.child.exitCode !== null)
        throw new Error(`${what} exited ${app.child.exitCode}: ${app.output()}`);
      const ready = await fetch(`${url}/health/ready`).then(
        (response) => response.ok,
        () => false,
      );
      return ready ? (true as const) : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 200 },
  );

/** A TCP port free on 127.0.0.1 right now. */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });

const spawnApp = (
  script: string,
  env: Readonly<Record<string, string>>,
  options: Options,
  name: string,
): Child => {
  let output = '';
  const prof = options.cpuProf
    ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`, `--cpu-prof-name=${name}.cpuprofile`]
    : [];
  const child = spawn(process.execPath, [...prof, '--enable-source-maps', script], {
    cwd: root,
    // PGAPPNAME: the server's log and pg_stat_activity tell each process' connections apart.
    env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', LOG_LEVEL: 'warn', PGAPPNAME: name, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, output: () => output, exited };
};

const stopApp = async (app: Child): Promise<void> => {
  if (app.child.exitCode !== null) return;
  app.child.kill('SIGTERM');
  const timer = setTimeout(() => app.child.kill('SIGKILL'), 15_000);
  await app.exited;
  clearTimeout(timer);
};

const waitFor = (app: Child, what: string, pattern: RegExp): Promise<string> =>
  eventually(
    what,
    () => {
      if (app.child.exitCode !== null)
        throw new Error(`${what}: exited ${app.child.exitCode}: ${app.output()}`);
      return pattern.exec(app.output())?.[1];
    },
    { timeoutMs: 180_000, intervalMs: 100 },
  );

/** Drives sessions over REST: the team, the sessions, then each turn as `POST …/messages?wait`. */
const overRest = async (url: string, key: string, shape: Shape, tag: string) => {
  const call = async (method: string, path: string, body: unknown): Promise<unknown> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as unknown;
  };
  await call('PUT', `/v1/teams/${TEAM}`, teamSpec());
  const id = (session: number): string => `${tag}-${session}`;
  for (let session = 0; session < shape.sessions; session += 1)
    await call('POST', '/v1/sessions', { teamId: TEAM, sessionId: id(session) });
  return () =>
    drive(shape, async (session, turn) => {
      const response = await fetch(`${url}/v1/sessions/${id(session)}/messages?wait=300`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: MESSAGE(session, turn) }),
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`turn ${id(session)}#${turn}: ${response.status} ${text}`);
    });
};

/** b) Gateway + one orchestrator process + Kafka on a fresh database and topic. */
const scenarioB = async (admin: pg.Client, shape: Shape, options: Options): Promise<RunResult> => {
  const database = await createTestDatabase(ADMIN_URL, 'bench_turns_b');
  const run = Date.now().toString(36);
  const tag = `b-${shape.sessions}x${shape.turns}`;
  const common = { DATABASE_URL: database.url, KAFKA_PARTITIONS: '12' };
  const orchestratorPort = await freePort();
  const orchestrator = spawnApp(
    'apps/orchestrator/dist/main.js',
    {
      ...common,
      KAFKA_BROKERS: BROKERS,
      KAFKA_TOPIC: `bench.turns.${run}`,
      ORCHESTRATOR_GROUP: `bench-turns-${run}`,
      ORCHESTRATOR_PORT: String(orchestratorPort),
      REPLICA_ID: 'bench-b',
      KAFKA_CLIENT: options.kafkaClient,
    },
    options,
    `orchestrator-${tag}`,
  );
  let gateway: Child | undefined;
  try {
    await waitReady(orchestrator, `http://127.0.0.1:${orchestratorPort}`, 'the orchestrator');
    const port = await freePort();
    gateway = spawnApp(
      'apps/gateway/dist/main.js',
      {
        ...common,
        ...UNLIMITED,
        PORT: String(port),
        GRPC_PORT: '0',
        AGENTLEDGER_API_KEYS: `${TENANT}:${KEY}`,
      },
      options,
      `gateway-${tag}`,
    );
    const url = `http://127.0.0.1:${port}`;
    await waitReady(gateway, url, 'the gateway');
    const turns = await overRest(url, KEY, shape, tag);
    const pids = { gateway: gateway.child.pid!, orchestrator: orchestrator.child.pid! };
    const cpuOf = async () =>
      Object.fromEntries(
        await Promise.all(Object.entries(pids).map(async ([name, pid]) => [name, await processCpuMs(pid)])),
      ) as Record<string, number>;
    const before = await walPosition(admin);
    const cpu = await cpuOf();
    const measured = await turns();
    const spent = await cpuOf();
    const after = await walPosition(admin);
    const cpuMsByProcess = Object.fromEntries(
      Object.keys(pids).map((name) => [name, spent[name]! - cpu[name]!]),
    );
    await stopApp(gateway);
    await stopApp(orchestrator);
    return result('b gateway+orch+kafka', shape, measured, {
      ...(await walWritten(database.url, before, after)),
      cpuMs: Object.values(cpuMsByProcess).reduce((sum, ms) => sum + ms, 0),
      cpuMsByProcess,
    });
  } finally {
    if (gateway) await stopApp(gateway);
    await stopApp(orchestrator);
    await database.drop();
  }
};

/** c) The embedded product (`npm start`'s app) on a fresh PGlite data directory. */
const scenarioC = async (shape: Shape, options: Options): Promise<RunResult> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'agentledger-bench-c-'));
  const tag = `c-${shape.sessions}x${shape.turns}`;
  const app = spawnApp(
    'apps/standalone/dist/main.js',
    { ...UNLIMITED, DATA_DIR: dataDir, PORT: '0', GRPC_PORT: '0', EXAMPLES_DIR: join(dataDir, 'none') },
    options,
    `standalone-${tag}`,
  );
  try {
    const url = await waitFor(app, 'the embedded product to start', /REST\s+(http:\/\/\S+)/);
    const key = await waitFor(app, 'the development key', /API key\s+(\S+)/);
    const turns = await overRest(url, key, shape, tag);
    const cpu = await processesCpuMs([app.child.pid!]);
    const measured = await turns();
    const cpuMs = (await processesCpuMs([app.child.pid!])) - cpu;
    return result('c embedded (pglite)', shape, measured, { cpuMs });
  } finally {
    await stopApp(app);
    await rm(dataDir, { recursive: true, force: true });
  }
};

/** The ratios a round reports (turns/s; the *P50* keys are p50 turn latency), null where not run. */
const RATIO_KEYS = [
  'aVsPgTurn',
  'aVsPgStep',
  'bVsPgTurn',
  'bVsPgStep',
  'cVsPgliteTurn',
  'cVsPgliteStep',
  'aP50VsPgStep',
  'bP50VsPgStep',
  'cP50VsPgliteStep',
] as const;
type ShapeRatios = Record<(typeof RATIO_KEYS)[number], number | null>;

const ratio = (a: RunResult | undefined, b: RunResult | undefined): number | null =>
  a === undefined || b === undefined ? null : round(a.turnsPerSecond / b.turnsPerSecond);
/** p50 turn latency against a baseline's (the single-session target is ≤ 3× the per-step one's). */
const latencyRatio = (a: RunResult | undefined, b: RunResult | undefined): number | null =>
  a === undefined || b === undefined || b.p50Ms === 0 ? null : round(a.p50Ms / b.p50Ms);

const ratiosOf = (measured: Readonly<Record<string, RunResult>>): ShapeRatios => {
  const perTurn = measured['pg tx/turn'];
  const perStep = measured['pg tx/step'];
  return {
    aVsPgTurn: ratio(measured['a runtime+pg'], perTurn),
    aVsPgStep: ratio(measured['a runtime+pg'], perStep),
    bVsPgTurn: ratio(measured['b gateway+orch+kafka'], perTurn),
    bVsPgStep: ratio(measured['b gateway+orch+kafka'], perStep),
    cVsPgliteTurn: ratio(measured['c embedded (pglite)'], measured['pglite tx/turn']),
    cVsPgliteStep: ratio(measured['c embedded (pglite)'], measured['pglite tx/step']),
    aP50VsPgStep: latencyRatio(measured['a runtime+pg'], perStep),
    bP50VsPgStep: latencyRatio(measured['b gateway+orch+kafka'], perStep),
    cP50VsPgliteStep: latencyRatio(measured['c embedded (pglite)'], measured['pglite tx/step']),
  };
};

export default async function bench(args: readonly string[] = []): Promise<void> {
  const options = parseTurnsArgs(args);
  if (options === 'help') {
    console.log(usage);
    return;
  }
  const log = (line: string): void => console.log(`[turns] ${line}`);
  if (options.scenarios.includes('b')) await requireKafka(BROKERS.split(','), 'scenario b');
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const rows: (RunResult & { round: number })[] = [];
  const ratios: Record<string, unknown>[] = [];
  const spreadsByShape: Record<string, unknown>[] = [];
  const print = (row: RunResult): void =>
    log(
      `${row.name.padEnd(22)} ${row.sessions}x${row.turnsPerSession}: ${row.turnsPerSecond} turns/s, ` +
        `p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, commits/turn ${row.commitsPerTurn ?? '-'}, ` +
        `WAL B/turn ${row.walBytesPerTurn ?? '-'}, CPU ms/turn ${row.cpuMsPerTurn ?? '-'}` +
        (row.cpuMsPerTurnByProcess === undefined ? '' : ` ${JSON.stringify(row.cpuMsPerTurnByProcess)}`) +
        ', ' +
        `machine ${row.machineBusyPercent}% busy, ${row.machineCpuMsPerTurn ?? '-'} CPU ms/turn`,
    );
  try {
    for (const shape of options.shapes) {
      const name = `${shape.sessions}x${shape.turns}`;
      const rounds: ShapeRatios[] = [];
      for (let pass = 1; pass <= options.rounds; pass += 1) {
        if (options.rounds > 1) log(`${name}: round ${pass} of ${options.rounds}`);
        const measured: Record<string, RunResult> = {};
        const add = (row: RunResult): void => {
          rows.push({ ...row, round: pass });
          measured[row.name] = row;
          print(row);
        };
        for (const row of await pgBaselines(admin, shape)) add(row);
        if (options.scenarios.includes('a')) add(await scenarioA(admin, shape, options));
        if (options.scenarios.includes('b')) add(await scenarioB(admin, shape, options));
        if (options.scenarios.includes('c')) {
          for (const row of await pgliteBaselines(shape)) add(row);
          add(await scenarioC(shape, options));
        }
        const shapeRatios = ratiosOf(measured);
        rounds.push(shapeRatios);
        ratios.push({ shape: name, round: pass, ...shapeRatios });
        log(
          `ratios (turns/s; p50 latency for the *P50* keys) ${JSON.stringify({ shape: name, ...shapeRatios })}`,
        );
      }
      const spreads = spreadsOf(rounds, RATIO_KEYS);
      spreadsByShape.push({ shape: name, ...spreads });
      if (options.rounds > 1)
        log(
          `${name} over ${options.rounds} rounds, median [min–max]: ` +
            RATIO_KEYS.flatMap((key) => {
              const spread = spreads[key];
              return spread === null ? [] : [`${key} ${spread.median} [${spread.min}–${spread.max}]`];
            }).join(', '),
        );
    }
    console.table(
      rows.map((row) => ({
        run: row.name,
        shape: `${row.sessions}x${row.turnsPerSession}`,
        ...(options.rounds > 1 ? { round: row.round } : {}),
        'turns/s': row.turnsPerSecond,
        'p50 ms': row.p50Ms,
        'p99 ms': row.p99Ms,
        'commits/turn': row.commitsPerTurn ?? '',
        'WAL B/turn': row.walBytesPerTurn ?? '',
        'CPU ms/turn': row.cpuMsPerTurn ?? '',
        'machine busy %': row.machineBusyPercent,
        'machine CPU ms/turn': row.machineCpuMsPerTurn ?? '',
      })),
    );
    await mkdir(new URL('./results/', import.meta.url), { recursive: true });
    await writeFile(
      new URL('./results/turns.json', import.meta.url),
      `${JSON.stringify(
        {
          at: new Date().toISOString(),
          notes:
            'turn = user message → scripted model asks for the calculator → calculator → model answers. ' +
            'commits/turn: commit records of the run database in the WAL the run wrote (pg_walinspect; a ' +
            'transaction that wrote, once however many appends it held; read-only statements and NOTIFY reads are ' +
            'not commits; other databases are left out). WAL bytes/turn: pg_current_wal_lsn delta, cluster-wide ' +
            '(other databases on the server add to it). CPU ms/turn: the product processes (a and baselines: this process, ' +
            'which also drives the load); Postgres server CPU is not counted. machine busy % and machine CPU ' +
            'ms/turn: /proc/stat over the measured part, every process (Postgres, Kafka, the driver; other work ' +
            'on the machine too). Baselines write the events of each ' +
            'step plus a session row update, per turn in one transaction or per step.',
          kafkaClient: options.kafkaClient,
          rounds: options.rounds,
          runs: rows,
          ratios,
          ratioSpreads: spreadsByShape,
        },
        null,
        2,
      )}\n`,
    );
    log('wrote bench/results/turns.json');
  } finally {
    await admin.end();
  }
}
