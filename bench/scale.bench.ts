import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createPostgresEventStore } from '@agentledger/events/postgres';
import { createSessionEngine } from '@agentledger/sessions';
import { createSqlSessionIndex } from '@agentledger/sessions/sql';
import { eventually } from '@agentledger/testing';
import { API_KEY, TENANT, startCluster, type Cluster } from '../test/chaos/cluster.ts';
import { seededRandom } from '../test/chaos/random.ts';
import {
  growth,
  busyPercent,
  machineCeiling,
  ownedPartitions,
  ownershipGap,
  parseProcStatus,
  percentile,
  round,
  scaleTable,
  scaleTargets,
  settledOwnership,
  slowTurnsSettleMs,
  summarize,
  type OwnershipSample,
  type ScaleRun,
  type TimedTurn,
} from './stats.ts';
import { machineCpu, processCpuMs } from './proc.ts';
import type { KafkaClient } from './kafka-preflight.ts';

/**
 * `npm run bench -- scale`: the distributed product (one gateway, 1..3 orchestrator processes, a
 * private Postgres and a private Kafka broker, the chaos harness' fake model) under load:
 *   throughput — turns/s and p50/p99 turn latency per replica count and model latency, against the
 *     same run's one-replica baseline (a turn: user message → model asks for the ledger tool →
 *     tool → model answers: 2 model calls);
 *   --rebalance — a third replica joins a group of two under load, then one leaves: the time until
 *     every partition is owned again (`agentledger_partitions_owned` of each replica), the time no
 *     partition had an owner, and until no turn takes longer than the usual p99;
 *   --memory — peak RSS of one replica holding N idle-but-open sessions, and with M turns in flight;
 *   --long — one session driven to 2,000 messages / 200 tool calls: per-step time, bytes appended
 *     per step and the cold fold time along its history.
 * Writes bench/results/scale.json.
 */

export const usage = `usage: npm run bench -- scale [options]
  --replicas 1,2,3        orchestrator processes per throughput run (default 1,2,3; 1 is the baseline)
  --latency 0,200         fake model latency in ms (default 0,200)
  --sessions N            concurrent sessions of a throughput run and of the rebalance load (default 64;
                          keep it above replicas × --max-model-calls, or the LLM-bound runs cannot scale)
  --turns T               turns per session per throughput run (default 3)
  --kafka-client C        kafkajs | platformatic | both (default kafkajs)
  --max-model-calls N     MAX_MODEL_CALLS of every replica (default 16)
  --no-throughput         skip the throughput runs
  --rebalance             join/leave ownership gap under load (200 ms model latency)
  --memory                RSS of one replica: --idle 1000,10000 open sessions, --active 1000 in flight
  --idle N,M              idle-but-open session counts for --memory (cumulative; default 1000,10000)
  --active N              sessions with a turn in flight for --memory (default 1000)
  --long                  one session to --long-messages 2000 messages with --long-tools 200 tool calls
  --cpu-prof              orchestrators write V8 CPU profiles to bench/results/cpu-prof/ at exit
  --help                  this text
The apps run from dist/ (npm run build first). Memory and long runs use the first Kafka client only.`;

export type ScaleOptions = Readonly<{
  replicas: readonly number[];
  latencies: readonly number[];
  sessions: number;
  turns: number;
  clients: readonly KafkaClient[];
  maxModelCalls: number;
  throughput: boolean;
  rebalance: boolean;
  memory: boolean;
  idleSessions: readonly number[];
  activeSessions: number;
  long: boolean;
  longMessages: number;
  longToolCalls: number;
  cpuProf: boolean;
}>;

export const parseScaleArgs = (args: readonly string[]): ScaleOptions | 'help' => {
  if (args.includes('--help')) return 'help';
  const value = (flag: string): string | undefined => {
    const index = args.indexOf(flag);
    return index < 0 ? undefined : args[index + 1];
  };
  const integers = (flag: string, fallback: string, min: number): number[] =>
    (value(flag) ?? fallback).split(',').map((text) => {
      const n = Number(text);
      if (!Number.isInteger(n) || n < min)
        throw new Error(`${flag}: expected integers ≥ ${min}, got "${text}"`);
      return n;
    });
  const one = (flag: string, fallback: number): number => integers(flag, String(fallback), 1)[0]!;
  const client = value('--kafka-client') ?? 'kafkajs';
  if (!['kafkajs', 'platformatic', 'both'].includes(client))
    throw new Error(`--kafka-client: kafkajs, platformatic or both, got "${client}"`);
  const replicas = integers('--replicas', '1,2,3', 1);
  if (Math.max(...replicas) > REPLICA_IDS.length)
    throw new Error(`--replicas: at most ${REPLICA_IDS.length}`);
  const longMessages = one('--long-messages', 2_000);
  const longToolCalls = integers('--long-tools', '200', 0)[0]!;
  if (longToolCalls * 2 > longMessages)
    throw new Error('--long-tools: one per turn at most (a turn adds 2 messages)');
  return {
    replicas,
    latencies: integers('--latency', '0,200', 0),
    sessions: one('--sessions', 64),
    turns: one('--turns', 3),
    clients: client === 'both' ? ['kafkajs', 'platformatic'] : [client as KafkaClient],
    maxModelCalls: one('--max-model-calls', 16),
    throughput: !args.includes('--no-throughput'),
    rebalance: args.includes('--rebalance'),
    memory: args.includes('--memory'),
    idleSessions: integers('--idle', '1000,10000', 1).sort((a, b) => a - b),
    activeSessions: one('--active', 1_000),
    long: args.includes('--long'),
    longMessages,
    longToolCalls,
    cpuProf: args.includes('--cpu-prof'),
  };
};

const REPLICA_IDS = ['replica-1', 'replica-2', 'replica-3'] as const;
const PARTITIONS = 12;
const TEAM_ID = 'scale-team';
const MODEL_CALLS_PER_TURN = 2;
const PROF_DIR = fileURLToPath(new URL('./results/cpu-prof/', import.meta.url));
const TEAM = {
  specVersion: 1,
  name: 'scale',
  type: 'single',
  agents: [
    {
      name: 'clerk',
      systemMessage: 'Use the tool the user names, then say done.',
      model: { endpoint: 'default', model: 'fake-model' },
      tools: ['ledger'],
      // The tool's result goes back to the model for the answer (AutoGen's default, false, would end
      // the turn with the tool's result as the agent's message after one model call).
      reflectOnToolUse: true,
    },
  ],
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number): number => round(bytes / 1024 / 1024, 1);

/** Runs `work` over `items`, at most `limit` at once. */
const inPool = async <T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) => {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
};

/** The REST calls the benchmark makes, as a business system would. */
const restApi = (baseUrl: string) => {
  const call = async (method: string, path: string, body: unknown): Promise<unknown> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status >= 300)
      throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
    return text === '' ? {} : (JSON.parse(text) as unknown);
  };
  return {
    putTeam: () => call('PUT', `/v1/teams/${TEAM_ID}`, TEAM),
    create: (sessionId: string) => call('POST', '/v1/sessions', { teamId: TEAM_ID, sessionId }),
    /** One turn, answered when it ended; `tool` makes the model call the ledger tool first. */
    turn: async (sessionId: string, text: string, tool: boolean): Promise<TimedTurn> => {
      const startedAt = Date.now();
      const content = tool ? `tool=ledger ${text}` : text;
      const answer = (await call('POST', `/v1/sessions/${sessionId}/messages?wait=300`, { content })) as {
        status?: string;
      };
      if (answer.status === undefined) throw new Error(`turn of ${sessionId} did not end within 300 s`);
      return { startedAt, endedAt: Date.now() };
    },
  };
};
type RestApi = ReturnType<typeof restApi>;

const memoryOf = async (pid: number | undefined) =>
  pid === undefined
    ? { rssBytes: 0, hwmBytes: 0 }
    : parseProcStatus(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));

/** What each replica id reports owning now (a replica that is down or does not answer: nothing). */
const ownershipNow = async (cluster: Cluster): Promise<OwnershipSample> => {
  const owned: Record<string, number[]> = {};
  await Promise.all(
    REPLICA_IDS.map(async (id) => {
      const replica = cluster.replica(id);
      const page =
        replica === undefined
          ? ''
          : await fetch(`${replica.url}/metrics`, { signal: AbortSignal.timeout(2_000) })
              .then((response) => (response.ok ? response.text() : ''))
              .catch(() => '');
      owned[id] = ownedPartitions(page);
    }),
  );
  return { at: Date.now(), owned };
};

const settledOn = (cluster: Cluster, members: readonly string[]) =>
  eventually(
    `partitions to settle on ${members.join(', ')}`,
    async () => (settledOwnership(await ownershipNow(cluster), PARTITIONS, members) ? true : undefined),
    { timeoutMs: 180_000, intervalMs: 100 },
  );

/** Exactly the first `n` replicas up (SIGTERM for the others), with the partitions split among them. */
const scaleTo = async (cluster: Cluster, n: number): Promise<void> => {
  const wanted = REPLICA_IDS.slice(0, n);
  await Promise.all(
    REPLICA_IDS.filter((id) => !wanted.includes(id) && cluster.replica(id) !== undefined).map((id) =>
      cluster.stopReplica(id, 'SIGTERM'),
    ),
  );
  await Promise.all(wanted.map((id) => cluster.startReplica(id)));
  await settledOn(cluster, wanted);
};

/** Creates `count` sessions named `<tag>-<i>`. */
const createSessions = async (api: RestApi, tag: string, count: number, from = 0): Promise<string[]> => {
  const ids = Array.from({ length: count }, (_, i) => `${tag}-${from + i}`);
  await inPool(ids, 16, async (id) => void (await api.create(id)));
  return ids;
};

type Log = (line: string) => void;

type ThroughputRun = ScaleRun &
  Readonly<{
    turns: number;
    seconds: number;
    /** Answers the fake model gave per measured turn (a turn asks for two: the tool call, then the answer). */
    modelAnswersPerTurn: number;
    cpuMsPerTurn: Readonly<{ gateway: number; orchestrators: readonly number[] }>;
    machineBusyPercent: number;
    /** The whole machine's CPU per turn and the turns/s it allows with every core busy (null: no turns). */
    machine: ReturnType<typeof machineCeiling>;
  }>;

const throughputRun = async (
  cluster: Cluster,
  api: RestApi,
  client: KafkaClient,
  replicas: number,
  latencyMs: number,
  options: ScaleOptions,
  log: Log,
) => {
  await scaleTo(cluster, replicas);
  cluster.model.setLatency(latencyMs);
  const tag = `t-${client}-${replicas}r-${latencyMs}ms`;
  const ids = await createSessions(api, tag, options.sessions);
  // One unmeasured turn per session: every session is loaded and every replica warmed up.
  await inPool(ids, ids.length, async (id) => void (await api.turn(id, 'warm up', false)));
  const pids = [cluster.gatewayPid(), ...REPLICA_IDS.map((id) => cluster.replica(id)?.child.pid)];
  const cpuBefore = await Promise.all(pids.map(processCpuMs));
  const machineBefore = await machineCpu();
  const answeredBefore = cluster.model.counts()['answered'] ?? 0;
  const turns: TimedTurn[] = [];
  const started = Date.now();
  await inPool(ids, ids.length, async (id) => {
    for (let turn = 0; turn < options.turns; turn += 1) turns.push(await api.turn(id, `${id}#${turn}`, true));
  });
  const seconds = (Date.now() - started) / 1_000;
  const cpuAfter = await Promise.all(pids.map(processCpuMs));
  const machineAfter = await machineCpu();
  const latency = summarize(turns.map((t) => t.endedAt - t.startedAt));
  const cpu = pids.map((_, i) => round((cpuAfter[i]! - cpuBefore[i]!) / turns.length, 1));
  const run: ThroughputRun = {
    client,
    replicas,
    latencyMs,
    turnsPerSecond: round(turns.length / seconds, 1),
    p50Ms: latency.p50Ms,
    p99Ms: latency.p99Ms,
    modelCallsPerTurn: MODEL_CALLS_PER_TURN,
    modelAnswersPerTurn: round(
      ((cluster.model.counts()['answered'] ?? 0) - answeredBefore) / turns.length,
      2,
    ),
    turns: turns.length,
    seconds: round(seconds, 1),
    cpuMsPerTurn: { gateway: cpu[0]!, orchestrators: cpu.slice(1).filter((_, i) => i < replicas) },
    machineBusyPercent: busyPercent(machineBefore, machineAfter),
    machine: machineCeiling(machineAfter.busy - machineBefore.busy, turns.length, availableParallelism()),
  };
  log(
    `${client} ${replicas} replica(s) ${latencyMs} ms: ${run.turnsPerSecond} turns/s, p50 ${run.p50Ms} ms, ` +
      `p99 ${run.p99Ms} ms, ${run.modelAnswersPerTurn} model answers/turn, CPU ms/turn gateway ${cpu[0]} orchestrators ${cpu.slice(1, replicas + 1).join('/')}, ` +
      `machine ${run.machineBusyPercent}% busy, ${run.machine?.machineCpuMsPerTurn ?? '-'} CPU ms/turn ` +
      `(ceiling ${run.machine?.ceilingTurnsPerSecond ?? '-'} turns/s on ${availableParallelism()} cores)`,
  );
  return run;
};

/** Sessions turning one after another until stopped; every turn's times. */
const startLoad = (api: RestApi, ids: readonly string[]) => {
  const turns: TimedTurn[] = [];
  const errors: string[] = [];
  let stopping = false;
  const loops = Promise.all(
    ids.map(async (id) => {
      for (let turn = 0; !stopping; turn += 1)
        await api
          .turn(id, `${id}#${turn}`, true)
          .then((timed) => void turns.push(timed))
          .catch((error: unknown) => void errors.push(String(error).slice(0, 200)));
    }),
  );
  return {
    turns,
    errors,
    stop: async () => {
      stopping = true;
      await loops;
    },
  };
};

const startSampler = (cluster: Cluster, everyMs: number) => {
  const samples: OwnershipSample[] = [];
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      samples.push(await ownershipNow(cluster));
      await sleep(everyMs);
    }
  })();
  return {
    samples,
    stop: async () => {
      stopping = true;
      await loop;
    },
  };
};

const HOLD_MS = 8_000;

const rebalanceRun = async (
  cluster: Cluster,
  api: RestApi,
  client: KafkaClient,
  options: ScaleOptions,
  log: Log,
) => {
  await scaleTo(cluster, 2);
  cluster.model.setLatency(200);
  const ids = await createSessions(api, `r-${client}`, options.sessions);
  const sampler = startSampler(cluster, 100);
  const load = startLoad(api, ids);
  try {
    await sleep(HOLD_MS * 1.5);
    const warm = load.turns.filter((t) => t.startedAt > load.turns[0]!.endedAt);
    const usualP99 = percentile(
      warm.map((t) => t.endedAt - t.startedAt).sort((a, b) => a - b),
      99,
    );
    log(`${client} rebalance: ${warm.length} turns before the join, usual p99 ${round(usualP99)} ms`);
    const joinAt = Date.now();
    await cluster.startReplica(REPLICA_IDS[2]);
    const joinReadyMs = Date.now() - joinAt;
    await settledOn(cluster, REPLICA_IDS);
    await sleep(HOLD_MS);
    const leaveAt = Date.now();
    const exited = cluster.stopReplica(REPLICA_IDS[0], 'SIGTERM');
    await settledOn(cluster, REPLICA_IDS.slice(1));
    await exited;
    const leaveExitMs = Date.now() - leaveAt;
    await sleep(HOLD_MS);
    await load.stop();
    await sampler.stop();
    const before = (at: number) => sampler.samples.filter((s) => s.at < at);
    const join = {
      ...ownershipGap(before(leaveAt), joinAt, PARTITIONS, REPLICA_IDS),
      readyMs: joinReadyMs,
      slowTurnsMs: slowTurnsSettleMs(
        load.turns.filter((t) => t.startedAt < leaveAt),
        joinAt,
        usualP99,
      ),
    };
    const leave = {
      ...ownershipGap(sampler.samples, leaveAt, PARTITIONS, REPLICA_IDS.slice(1)),
      exitMs: leaveExitMs,
      slowTurnsMs: slowTurnsSettleMs(load.turns, leaveAt, usualP99),
    };
    const result = {
      client,
      sessions: ids.length,
      usualP99Ms: round(usualP99),
      turns: load.turns.length,
      turnErrors: load.errors.length,
      firstErrors: load.errors.slice(0, 3),
      join,
      leave,
      gapTargetMet: join.uncoveredMs < 5_000 && leave.uncoveredMs < 5_000,
    };
    log(`${client} rebalance: ${JSON.stringify({ join, leave, turnErrors: load.errors.length })}`);
    return result;
  } finally {
    await load.stop();
    await sampler.stop();
  }
};

const memoryRun = async (cluster: Cluster, api: RestApi, options: ScaleOptions, log: Log) => {
  await scaleTo(cluster, 1);
  const pid = cluster.replica(REPLICA_IDS[0])!.child.pid;
  const gatewayPid = cluster.gatewayPid();
  const rows: Record<string, unknown>[] = [];
  const record = async (phase: string, sessions: number, peakRss?: number) => {
    const [replica, gateway] = await Promise.all([memoryOf(pid), memoryOf(gatewayPid)]);
    const row = {
      phase,
      sessions,
      replicaRssMiB: mib(replica.rssBytes),
      replicaPeakRssMiB: mib(Math.max(peakRss ?? 0, replica.rssBytes)),
      replicaHwmMiB: mib(replica.hwmBytes),
      gatewayRssMiB: mib(gateway.rssBytes),
      underOneGiB: Math.max(peakRss ?? 0, replica.rssBytes) <= 1024 ** 3,
    };
    rows.push(row);
    log(`memory ${JSON.stringify(row)}`);
  };
  await record('started', 0);
  cluster.model.setLatency(0);
  let open = 0;
  for (const target of options.idleSessions) {
    const ids = await createSessions(api, 'idle', target - open, open);
    let done = 0;
    await inPool(ids, 32, async (id) => {
      await api.turn(id, 'hello', false);
      done += 1;
      if (done % 1_000 === 0) log(`memory: ${open + done}/${target} sessions opened`);
    });
    open = target;
    await sleep(2_000);
    await record('idle-open', open);
  }
  cluster.model.setLatency(200);
  const active = await createSessions(api, 'active', options.activeSessions);
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, (await memoryOf(pid)).rssBytes);
      await sleep(200);
    }
  })();
  const started = Date.now();
  await inPool(active, active.length, async (id) => void (await api.turn(id, 'busy', true)));
  sampling = false;
  await sampler;
  log(`memory: ${active.length} turns in flight at once took ${round((Date.now() - started) / 1_000, 1)} s`);
  await record('active', active.length, peak);
  return rows;
};

/**
 * One session to `longMessages` messages (user and agent) with `longToolCalls` tool turns spread
 * evenly (each also a tool call and its result in the model's context). At each checkpoint
 * a cold fold (a new engine, no cache, no snapshot written); at the end the store's transactions
 * of the session: one per step.
 */
const longRun = async (cluster: Cluster, api: RestApi, options: ScaleOptions, log: Log) => {
  await scaleTo(cluster, 1);
  cluster.model.setLatency(0);
  const sessionId = `long-${Date.now().toString(36)}`;
  await api.create(sessionId);
  // A turn adds 2 messages (the user's and the agent's answer); a tool turn also a tool call.
  const totalTurns = Math.ceil(options.longMessages / 2);
  const toolTurns = options.longToolCalls;
  const isTool = (i: number): boolean =>
    Math.floor(((i + 1) * toolTurns) / totalTurns) > Math.floor((i * toolTurns) / totalTurns);
  const checkpoints = [0.25, 0.5, 1].map((f) => Math.round(f * options.longMessages));
  const store = await createPostgresEventStore({ connectionString: cluster.postgres.url, maxConnections: 2 });
  const engine = createSessionEngine({
    store,
    index: createSqlSessionIndex(store.db),
    partitions: PARTITIONS,
    cacheMaxBytes: 0,
    snapshotEvery: 0,
  });
  const folds: Record<string, unknown>[] = [];
  const turnMs: number[] = [];
  // Every snapshot the product wrote (the table holds a stream's newest; a turn crosses at most one
  // snapshot point), read after each turn: its version and size.
  const snapshotsWritten = new Map<number, number>();
  const newestSnapshot = async (streamId: string) => {
    const { rows } = await store.pool.query<{ version: number; bytes: string }>(
      `select version, octet_length(state::text)::text as bytes from snapshots where stream_id = $1`,
      [streamId],
    );
    return rows[0] === undefined ? undefined : { version: rows[0].version, bytes: Number(rows[0].bytes) };
  };
  try {
    let messages = 0;
    for (let i = 0; i < totalTurns; i += 1) {
      const tool = isTool(i);
      const timed = await api.turn(sessionId, `long turn ${i}`, tool);
      turnMs.push(timed.endedAt - timed.startedAt);
      messages += 2;
      const written = await newestSnapshot(await engine.streamIdOf(TENANT, sessionId));
      if (written !== undefined) snapshotsWritten.set(written.version, written.bytes);
      if (checkpoints.some((c) => messages >= c && messages - 2 < c)) {
        const times: number[] = [];
        let state;
        for (let k = 0; k < 3; k += 1) {
          const t0 = performance.now();
          state = await engine.load(TENANT, sessionId);
          times.push(performance.now() - t0);
        }
        const streamId = await engine.streamIdOf(TENANT, sessionId);
        // The share of the fold that is reading and parsing the snapshot (the state, all messages).
        const snapshotReads: number[] = [];
        for (let k = 0; k < 3; k += 1) {
          const t0 = performance.now();
          await store.loadSnapshot(streamId, { tenantId: TENANT, schemaTag: 'session-v1' });
          snapshotReads.push(performance.now() - t0);
        }
        const newest = await newestSnapshot(streamId);
        const fold = {
          messages: state?.messages.length,
          version: state?.version,
          coldFoldMs: round(
            percentile(
              times.sort((a, b) => a - b),
              50,
            ),
          ),
          snapshotReadMs: round(
            percentile(
              snapshotReads.sort((a, b) => a - b),
              50,
            ),
          ),
          snapshotVersion: newest?.version ?? null,
          snapshotBytes: newest?.bytes ?? null,
          eventsFolded: (state?.version ?? 0) - (newest?.version ?? 0),
        };
        folds.push(fold);
        log(`long: ${JSON.stringify(fold)}`);
      }
    }
    const streamId = await engine.streamIdOf(TENANT, sessionId);
    const { rows } = await store.pool.query<{
      v: number;
      n: string;
      bytes: string;
      at: string;
      first: string;
    }>(
      `select min(version) as v, count(*)::text as n,
              sum(octet_length(data::text) + octet_length(metadata::text))::text as bytes,
              (extract(epoch from min(recorded_at)) * 1000)::text as at,
              (array_agg(type order by version))[1] as first
         from events where stream_id = $1 group by transaction_id order by 1`,
      [streamId],
    );
    const bounds = folds.map((f) => Number(f.version));
    const buckets = bounds.map((upTo, b) => {
      const from = b === 0 ? 0 : bounds[b - 1]!;
      const steps = rows.filter(
        (row, i) => row.v > from && row.v <= upTo && i > 0 && row.first !== 'UserMessageReceived',
      );
      const stepMs = steps
        .map((row) => Number(row.at) - Number(rows[rows.indexOf(row) - 1]!.at))
        .sort((a, c) => a - c);
      const bytes = steps.map((row) => Number(row.bytes));
      return {
        upToMessages: folds[b]!.messages,
        steps: steps.length,
        stepMsP50: round(percentile(stepMs, 50), 1),
        stepMsP90: round(percentile(stepMs, 90), 1),
        bytesPerStepMean: Math.round(bytes.reduce((a, c) => a + c, 0) / Math.max(1, bytes.length)),
        bytesPerStepMax: Math.max(0, ...bytes),
        coldFoldMs: folds[b]!.coldFoldMs,
        eventsFolded: folds[b]!.eventsFolded,
        snapshotReadMs: folds[b]!.snapshotReadMs,
        snapshotBytes: folds[b]!.snapshotBytes,
        // The snapshots written in this stretch, spread over its appends.
        snapshotsWritten: [...snapshotsWritten.keys()].filter((v) => v > from && v <= upTo).length,
        snapshotBytesPerStep: Math.round(
          [...snapshotsWritten]
            .filter(([v]) => v > from && v <= upTo)
            .reduce((sum, [, bytes]) => sum + bytes, 0) /
            Math.max(1, rows.filter((row) => row.v > from && row.v <= upTo).length),
        ),
      };
    });
    const table = {
      sessionId,
      turns: totalTurns,
      toolTurns,
      turnMs: summarize(turnMs),
      buckets,
      growth: {
        stepMsP50: growth(buckets.map((b) => b.stepMsP50)),
        bytesPerStepMean: growth(buckets.map((b) => b.bytesPerStepMean)),
        coldFoldMs: growth(buckets.map((b) => Number(b.coldFoldMs))),
        snapshotBytesPerStep: growth(buckets.map((b) => b.snapshotBytesPerStep)),
      },
      folds,
    };
    console.table(buckets);
    log(`long: growth last/first ${JSON.stringify(table.growth)}`);
    return table;
  } finally {
    await store.close();
  }
};

const machine = () => ({ at: new Date().toISOString(), loadAverage: loadavg().map((l) => round(l)) });

export default async function scaleBench(args: readonly string[] = []): Promise<void> {
  const options = parseScaleArgs(args);
  if (options === 'help') {
    console.log(usage);
    return;
  }
  const began = Date.now();
  const log: Log = (line) => console.log(`[scale ${Math.round((Date.now() - began) / 1_000)}s] ${line}`);
  const startMachine = machine();
  log(`load average ${startMachine.loadAverage.join(' ')}; options ${JSON.stringify(options)}`);
  const slots = Math.max(...options.replicas) * options.maxModelCalls;
  if (options.throughput && options.sessions < slots)
    log(
      `note: ${options.sessions} sessions keep at most ${options.sessions} model calls in flight, fewer than ` +
        `${slots} (replicas × --max-model-calls): the LLM-bound runs are capped by the sessions, not the replicas`,
    );
  const runs: ThroughputRun[] = [];
  const rebalances: Record<string, unknown>[] = [];
  let memory: Record<string, unknown>[] | undefined;
  let long: Record<string, unknown> | undefined;
  for (const [index, client] of options.clients.entries()) {
    log(`${client}: starting a private cluster…`);
    const cluster = await startCluster(seededRandom(1), log, client, {
      replicas: REPLICA_IDS,
      initialReplicas: 1,
      orchestratorEnv: {
        MAX_MODEL_CALLS: String(options.maxModelCalls),
        ...(options.cpuProf ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${PROF_DIR}` } : {}),
      },
    });
    try {
      const api = restApi(cluster.restUrl);
      await api.putTeam();
      if (options.throughput)
        for (const latencyMs of options.latencies)
          for (const replicas of options.replicas)
            runs.push(await throughputRun(cluster, api, client, replicas, latencyMs, options, log));
      if (options.rebalance) rebalances.push(await rebalanceRun(cluster, api, client, options, log));
      if (index === 0 && options.memory) memory = await memoryRun(cluster, api, options, log);
      if (index === 0 && options.long) long = await longRun(cluster, api, options, log);
      const crashes = cluster.crashes();
      if (crashes.length > 0) log(`processes that exited by themselves: ${JSON.stringify(crashes)}`);
    } finally {
      // A clean exit first, so that --cpu-prof profiles are written.
      await Promise.all(
        REPLICA_IDS.filter((id) => cluster.replica(id) !== undefined).map((id) =>
          cluster.stopReplica(id, 'SIGTERM'),
        ),
      );
      await cluster.stop();
    }
  }
  const table = scaleTable(runs).map((row) => ({ ...row, ...scaleTargets(row) }));
  if (table.length > 0)
    console.table(
      table.map((row) => ({
        client: row.client,
        replicas: row.replicas,
        'model ms': row.latencyMs,
        'turns/s': row.turnsPerSecond,
        'p50 ms': row.p50Ms,
        'p99 ms': row.p99Ms,
        'vs 1 replica': row.speedup,
        'p99/model time': row.p99OverModelTime ?? '',
        'machine busy %': row.machineBusyPercent,
        'machine CPU ms/turn': row.machine?.machineCpuMsPerTurn ?? '',
        'CPU ceiling turns/s': row.machine?.ceilingTurnsPerSecond ?? '',
        'speedup met': row.speedupMet ?? '',
        'p99 met': row.p99Met ?? '',
      })),
    );
  if (rebalances.length > 0)
    console.table(
      rebalances.flatMap((r) =>
        (['join', 'leave'] as const).map((kind) => {
          const gap = r[kind] as { settledMs: number | null; uncoveredMs: number; slowTurnsMs: number };
          return {
            client: r['client'],
            change: kind,
            'settled ms': gap.settledMs,
            'no owner ms': gap.uncoveredMs,
            'slow turns ms': gap.slowTurnsMs,
          };
        }),
      ),
    );
  if (memory !== undefined) console.table(memory);
  const endMachine = machine();
  log(`load average at the end ${endMachine.loadAverage.join(' ')}`);
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(
    new URL('./results/scale.json', import.meta.url),
    `${JSON.stringify(
      {
        started: startMachine,
        ended: endMachine,
        options,
        notes:
          'turn = user message → model asks for the ledger tool → tool → model answers (2 model calls). ' +
          'speedup: turns/s over the same client and latency with 1 replica in this run; target ≥ 0.9 × replicas ' +
          'at 200 ms. p99/model time: p99 over latency × 2; target ≤ 1.5. Rebalance: settled = until every ' +
          'partition is owned once by the new members; no owner = time some partition had none; slow turns = ' +
          'until no turn took longer than the usual p99. Memory: one replica holds every session.',
        throughput: table,
        rebalance: rebalances,
        memory: memory ?? null,
        long: long ?? null,
      },
      null,
      2,
    )}\n`,
  );
  log('wrote bench/results/scale.json');
}
