import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ensureKafkaTopic } from '@agentledger/events/kafka';
import { LEDGER_TABLE } from '../support/ledger-table.ts';
import { startOrchestratorProcess, type OrchestratorProcess } from '../support/orchestrator-process.ts';
import { startChaosModel, type ChaosModel } from './chaos-model.ts';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.ts';
import { startPrivateKafka, type PrivateKafka } from './private-kafka.ts';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres.ts';
import type { Random } from './random.ts';
import { freePort, parseLogLine, supervised } from './supervisor.ts';

export const TENANT = 'chaos';
export const API_KEY = 'chaos-key-not-secret';
export const TOPIC = 'agentledger.chaos';
export const REPLICAS = ['replica-a', 'replica-b', 'replica-c'] as const;
const toolsModule = fileURLToPath(new URL('../support/ledger-tools.ts', import.meta.url));

export type Cluster = Awaited<ReturnType<typeof startCluster>>;

/** What a run other than chaos (the scaling benchmark) changes; the chaos run takes the defaults. */
export type ClusterOptions = Readonly<{
  /** Replica ids that may run (default REPLICAS). */
  replicas?: readonly string[];
  /** How many of them start with the cluster (default all). */
  initialReplicas?: number;
  /** Orchestrator settings over the chaos ones (e.g. MAX_MODEL_CALLS, LOG_LEVEL). */
  orchestratorEnv?: Readonly<Record<string, string>>;
}>;

/**
 * Everything the chaos run needs, all private: Postgres, a Kafka broker, the fake model, one
 * gateway and three orchestrator processes, with the handles the fault schedule pulls.
 */
export const startCluster = async (
  random: Random,
  log: (line: string) => void,
  kafkaClient: string,
  options: ClusterOptions = {},
) => {
  // What is up so far, torn down in reverse when a later start fails (and by `stop`).
  const undo: (() => Promise<unknown>)[] = [];
  try {
    return await assemble(random, log, kafkaClient, options, undo);
  } catch (error) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw error;
  }
};

const assemble = async (
  random: Random,
  log: (line: string) => void,
  kafkaClient: string,
  options: ClusterOptions,
  undo: (() => Promise<unknown>)[],
) => {
  const replicaIds = options.replicas ?? REPLICAS;
  let stopped: Promise<void> | undefined;
  const [pgPort, kafkaPort, controllerPort, restPort, grpcPort] = await Promise.all(
    Array.from({ length: 5 }, freePort),
  );
  log(`starting private Postgres on ${pgPort} and a private Kafka broker on ${kafkaPort}…`);
  const [startedPostgres, startedKafka] = await Promise.allSettled([
    startPrivatePostgres(pgPort!),
    startPrivateKafka(kafkaPort!, controllerPort!),
  ]);
  if (startedPostgres.status === 'fulfilled') undo.push(startedPostgres.value.destroy);
  if (startedKafka.status === 'fulfilled') undo.push(startedKafka.value.destroy);
  if (startedPostgres.status === 'rejected') throw startedPostgres.reason;
  if (startedKafka.status === 'rejected') throw startedKafka.reason;
  const postgres: PrivatePostgres = startedPostgres.value;
  const kafka: PrivateKafka = startedKafka.value;
  const admin = new pg.Client({ connectionString: postgres.url.replace(/\/agentledger$/, '/postgres') });
  await admin.connect();
  await admin.query('create database agentledger');
  await admin.end();
  const pool = new pg.Pool({ connectionString: postgres.url, max: 4 });
  pool.on('error', () => undefined);
  undo.push(() => pool.end());
  await pool.query(LEDGER_TABLE);
  await ensureKafkaTopic({ brokers: [kafka.brokers], topic: TOPIC, partitions: 12 });
  const model: ChaosModel = await startChaosModel(random.fork());
  undo.push(model.close);
  const common = {
    DATABASE_URL: postgres.url,
    LEDGER_DATABASE_URL: postgres.url,
    TOOLS_MODULE: toolsModule,
    OPENAI_BASE_URL: model.baseUrl,
    KAFKA_PARTITIONS: '12',
  };
  const gatewayEnv = {
    ...common,
    PORT: String(restPort),
    GRPC_PORT: String(grpcPort),
    AGENTLEDGER_API_KEYS: `${TENANT}:${API_KEY}`,
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
  };
  const orchestratorEnv = {
    ...common,
    OPENAI_API_KEY: 'fake-key-not-secret',
    KAFKA_BROKERS: kafka.brokers,
    KAFKA_TOPIC: TOPIC,
    KAFKA_CLIENT: kafkaClient,
    ORCHESTRATOR_GROUP: 'chaos-orchestrators',
    DATABASE_POOL_SIZE: '8',
    LEASE_TTL_MS: '3000',
    RECOVERY_INTERVAL_MS: '500',
    SHUTDOWN_DEADLINE_MS: '8000',
    MODEL_CALL_TIMEOUT_MS: '20000',
    CHARGE_DELAY_MS: '200',
    ...options.orchestratorEnv,
  };
  const initial = replicaIds.slice(0, options.initialReplicas ?? replicaIds.length);
  log(`starting the gateway and ${initial.length} orchestrator(s)…`);
  // Processes the harness signalled; any other exit is a crash: recorded, and restarted as a supervisor would.
  const signalled = new Set<ChildProcess>();
  const crashes: { process: string; exit: string; at: number; output: string }[] = [];
  let stopping = false;
  const watch = (name: string, started: GatewayProcess, restart: () => Promise<unknown>) =>
    void started.exited.then((exit) => {
      if (stopping || signalled.has(started.child)) return;
      crashes.push({
        process: name,
        exit: String(exit),
        at: Date.now(),
        output: started.output().slice(-1_500),
      });
      log(`${name} exited by itself (${exit}); restarting it`);
      void restart().catch(() => undefined);
    });
  // Every started process, for the log summary.
  const processes = new Set<GatewayProcess>();
  // Every child from its spawn on, with its exit: one still starting (a supervisor's restart) is
  // stopped too, and one spawned while the cluster stops is killed at once.
  const spawned = new Map<ChildProcess, Promise<void>>();
  const onSpawn = (child: ChildProcess): void => {
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    spawned.set(child, exited);
    if (stopping) child.kill('SIGKILL');
  };
  undo.push(async () => {
    stopping = true;
    for (const child of spawned.keys())
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(spawned.values());
  });
  let gateway: GatewayProcess | undefined;
  const startGateway = async (): Promise<GatewayProcess> => {
    const started = await supervised('gateway', log, () => startGatewayProcess(gatewayEnv, onSpawn));
    processes.add(started);
    watch('gateway', started, startGateway);
    gateway = started;
    return started;
  };
  await startGateway();
  const ports = await Promise.all(replicaIds.map(() => freePort()));
  const replicas = new Map<string, OrchestratorProcess>();
  // One process per replica id (and port): a start while one runs or starts returns that one.
  const starting = new Map<string, Promise<OrchestratorProcess>>();
  const startReplica = (id: string): Promise<OrchestratorProcess> => {
    const running = replicas.get(id);
    if (running !== undefined && running.child.exitCode === null && running.child.signalCode === null)
      return Promise.resolve(running);
    const pending =
      starting.get(id) ??
      supervised(`orchestrator ${id}`, log, () =>
        startOrchestratorProcess(
          id,
          ports[replicaIds.indexOf(id)]!,
          {
            ...orchestratorEnv,
            // The model learns which replica asked from the path (`ChaosModel.paid`).
            OPENAI_BASE_URL: model.baseUrlFor(id),
          },
          onSpawn,
        ),
      )
        .then((started) => {
          processes.add(started);
          watch(`orchestrator ${id}`, started, () => startReplica(id));
          replicas.set(id, started);
          return started;
        })
        .finally(() => starting.delete(id));
    starting.set(id, pending);
    return pending;
  };
  await Promise.all(initial.map(startReplica));
  const up = (id: string) => {
    const child = replicas.get(id)?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  };
  return {
    postgres,
    kafka,
    model,
    pool,
    restUrl: `http://127.0.0.1:${restPort}`,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    upReplicas: () => replicaIds.filter(up),
    /** The running process of a replica (its pid, its health and metrics URL), if up. */
    replica: (id: string): OrchestratorProcess | undefined => (up(id) ? replicas.get(id) : undefined),
    gatewayPid: () => gateway?.child.pid,
    /** Sends `signal` to a replica and resolves with how it exited. */
    stopReplica: async (id: string, signal: 'SIGKILL' | 'SIGTERM') => {
      const replica = replicas.get(id)!;
      signalled.add(replica.child);
      replica.child.kill(signal);
      return replica.exited;
    },
    startReplica,
    killGateway: async () => {
      signalled.add(gateway!.child);
      gateway!.child.kill('SIGKILL');
      await gateway!.exited;
    },
    startGateway: async () => void (await startGateway()),
    /** The most frequent warning and error lines of every process this run started. */
    logSummary: (): Record<string, number> => {
      const counts = new Map<string, number>();
      for (const p of processes)
        for (const line of p.output().split('\n')) {
          const entry = parseLogLine(line);
          if (entry !== undefined) counts.set(entry, (counts.get(entry) ?? 0) + 1);
        }
      return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).slice(0, 20));
    },
    /** The last lines each process wrote (its latest start), for a run that is cut short. */
    outputTails: (lines = 20): string => {
      const latest = new Map<string, GatewayProcess>();
      for (const p of processes) latest.set('replicaId' in p ? String(p.replicaId) : 'gateway', p);
      return [...latest]
        .map(([name, p]) => {
          const state = p.child.exitCode ?? p.child.signalCode ?? 'running';
          const tail = p.output().trimEnd().split('\n').slice(-lines).join('\n');
          return `--- ${name} (pid ${p.child.pid}, ${state}) ---\n${tail}`;
        })
        .join('\n');
    },
    /** Exits the harness did not cause. */
    crashes: () => [...crashes],
    /** Replica ids holding a lease on a session with pending work (a turn in flight). */
    busyReplicas: async (): Promise<string[]> => {
      const { rows } = await pool.query<{ owner: string }>(
        `select distinct split_part(lease_owner, '/', 1) as owner from sessions
         where pending_work and lease_owner is not null and lease_expires_at > now()`,
      );
      return rows.map((r) => r.owner);
    },
    outputs: () => ({
      gateway: gateway!.output().slice(-4_000),
      ...Object.fromEntries([...replicas].map(([id, p]) => [id, p.output().slice(-4_000)])),
    }),
    /** Tears everything down in reverse order of start; a second call awaits the first. */
    stop: () => {
      stopped ??= (async () => {
        for (const step of undo.reverse()) await step().catch(() => undefined);
      })();
      return stopped;
    },
  };
};
