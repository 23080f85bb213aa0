import { mkdir, writeFile } from 'node:fs/promises';
import pg from 'pg';
import type { EventEnvelope, NewEvent } from '@agentledger/events';
import {
  createPostgresEventStore,
  ignoreClientErrors,
  runMigrations,
  type PostgresEventStore,
} from '@agentledger/events/postgres';
import { percentile, round } from './stats.ts';

/**
 * `npm run bench -- events`: the event store on the real Postgres against plain `pg` INSERTs into
 * a minimal table, in one run on one fresh database (dropped at the end).
 */

export const usage = `usage: npm run bench -- events
The event store on Postgres against plain pg INSERTs, on a fresh database (dropped at the end):
appends as one 5-event append a turn and as 5 single-event appends, at 1, 16 and 64 streams; the
fold of 10,000 events with and without a snapshot; readAll over the whole log. No options.
env: DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/postgres),
     BENCH_STREAMS (default 1,16,64), BENCH_SECONDS per run (default 3)
Writes bench/results/events.json.`;

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CONCURRENCY = (process.env.BENCH_STREAMS ?? '1,16,64').split(',').map(Number);
const SECONDS_PER_RUN = Number(process.env.BENCH_SECONDS ?? 3);
const TURN = 5;
const FOLD_EVENTS = 10_000;

type Pattern = 'turn' | 'singles';
type RunResult = {
  eventsPerSecond: number;
  turnsPerSecond: number;
  turnP50Ms: number;
  turnP99Ms: number;
  txP50Ms: number;
  txP99Ms: number;
  events: number;
};

const payload = (turn: number, index: number): Record<string, unknown> => ({
  role: 'assistant',
  content: `message ${turn}.${index} ${'lorem ipsum dolor sit amet '.repeat(4)}`,
  usage: { promptTokens: 120 + index, completionTokens: 40 },
  toolCalls: [{ id: `call-${turn}-${index}`, name: 'calculator', arguments: { a: 1, b: 2, operator: '+' } }],
});

const turnEvents = (turn: number): NewEvent[] =>
  Array.from({ length: TURN }, (_, index) => ({
    type: 'AgentMessageEmitted',
    data: payload(turn, index),
    metadata: { correlationId: `turn-${turn}`, actor: 'bench' },
  }));

/** Runs `workers` loops until the deadline; each loop does one turn per iteration. */
const measure = async (
  workers: number,
  doTurn: (worker: number, turn: number, txLatencies: number[]) => Promise<void>,
): Promise<RunResult> => {
  const turnLatencies: number[] = [];
  const txLatencies: number[] = [];
  const started = performance.now();
  const deadline = started + SECONDS_PER_RUN * 1000;
  let turns = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let turn = 0; performance.now() < deadline; turn += 1) {
        const t0 = performance.now();
        await doTurn(worker, turn, txLatencies);
        turnLatencies.push(performance.now() - t0);
        turns += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  turnLatencies.sort((a, b) => a - b);
  txLatencies.sort((a, b) => a - b);
  return {
    eventsPerSecond: round((turns * TURN) / seconds, 0),
    turnsPerSecond: round(turns / seconds, 0),
    turnP50Ms: round(percentile(turnLatencies, 50)),
    turnP99Ms: round(percentile(turnLatencies, 99)),
    txP50Ms: round(percentile(txLatencies, 50)),
    txP99Ms: round(percentile(txLatencies, 99)),
    events: turns * TURN,
  };
};

const timed = async <T>(latencies: number[], work: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  const result = await work();
  latencies.push(performance.now() - t0);
  return result;
};

const ours = (store: PostgresEventStore, pattern: Pattern, workers: number, label: string) => {
  const versions = new Array<number>(workers).fill(0);
  return measure(workers, async (worker, turn, tx) => {
    const streamId = `session-${label}-${worker}`;
    const events = turnEvents(turn);
    if (pattern === 'turn') {
      const result = await timed(tx, () =>
        store.append(streamId, events, { tenantId: 'bench', expectedVersion: versions[worker] ?? 0 }),
      );
      versions[worker] = result.nextExpectedVersion;
      return;
    }
    for (const event of events) {
      const result = await timed(tx, () =>
        store.append(streamId, [event], { tenantId: 'bench', expectedVersion: versions[worker] ?? 0 }),
      );
      versions[worker] = result.nextExpectedVersion;
    }
  });
};

const RAW_INSERT_ONE =
  'insert into raw_events (stream_id, version, type, data) values ($1, $2, $3, $4::jsonb)';
const RAW_INSERT_TURN = `insert into raw_events (stream_id, version, type, data) values ${Array.from(
  { length: TURN },
  (_, index) => `($1, $${index * 3 + 2}, $${index * 3 + 3}, $${index * 3 + 4}::jsonb)`,
).join(', ')}`;

/**
 * The baseline: the same events as plain INSERTs into a minimal table. A turn is one transaction
 * (BEGIN, one INSERT per event, COMMIT) on one connection; singles are five autocommit INSERTs.
 * `multiRow` makes a turn a single multi-row INSERT instead (the cheapest a turn can be; reported
 * for reference, not used for the ratio).
 */
const raw = (pool: pg.Pool, pattern: Pattern | 'multiRow', workers: number, label: string) => {
  const versions = new Array<number>(workers).fill(0);
  return measure(workers, async (worker, turn, tx) => {
    const streamId = `raw-${label}-${worker}`;
    const events = turnEvents(turn);
    const base = versions[worker] ?? 0;
    versions[worker] = base + TURN;
    const row = (index: number): unknown[] => [
      streamId,
      base + index + 1,
      events[index]?.type,
      JSON.stringify(events[index]?.data),
    ];
    if (pattern === 'multiRow') {
      const values = [streamId, ...events.flatMap((_, index) => row(index).slice(1))];
      await timed(tx, () => pool.query({ name: 'raw_turn', text: RAW_INSERT_TURN, values }));
      return;
    }
    if (pattern === 'turn') {
      const client = await pool.connect();
      try {
        await timed(tx, async () => {
          await client.query('begin');
          for (let index = 0; index < TURN; index += 1)
            await client.query({ name: 'raw_one', text: RAW_INSERT_ONE, values: row(index) });
          await client.query('commit');
        });
      } finally {
        client.release();
      }
      return;
    }
    for (let index = 0; index < TURN; index += 1)
      await timed(tx, () => pool.query({ name: 'raw_one', text: RAW_INSERT_ONE, values: row(index) }));
  });
};

type Counter = { count: number; tokens: number };
const evolve = (state: Counter, event: EventEnvelope): Counter => {
  const usage = (event.data as { usage?: { completionTokens?: number } }).usage;
  return { count: state.count + 1, tokens: state.tokens + (usage?.completionTokens ?? 0) };
};

const best = async (times: number, work: () => Promise<void>): Promise<number> => {
  let fastest = Infinity;
  for (let run = 0; run < times; run += 1) {
    const t0 = performance.now();
    await work();
    fastest = Math.min(fastest, performance.now() - t0);
  }
  return fastest;
};

export default async function bench(): Promise<void> {
  const name = `al_bench_events_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const log = (line: string): void => console.log(`[events] ${line}`);
  log(`database ${name}; ${SECONDS_PER_RUN}s per run`);
  // One pool of 64 + 2 for both sides (the server allows 100 connections in all).
  const rawPool = new pg.Pool({ connectionString: url.toString(), max: 66 });
  ignoreClientErrors(rawPool);
  let store: PostgresEventStore | undefined;
  try {
    await runMigrations(url.toString());
    store = await createPostgresEventStore({ pool: rawPool });
    await rawPool.query(
      'create table raw_events (id bigint generated always as identity primary key, stream_id text not null, version integer not null, type text not null, data jsonb not null)',
    );
    await Promise.all([
      ours(store, 'turn', 32, 'warmup').then(() => undefined),
      raw(rawPool, 'turn', 32, 'warmup').then(() => undefined),
    ]);

    const appends: Record<string, unknown>[] = [];
    for (const pattern of ['turn', 'singles'] as const) {
      for (const workers of CONCURRENCY) {
        const label = `${pattern}-${workers}`;
        const rawResult = await raw(rawPool, pattern, workers, label);
        const ourResult = await ours(store, pattern, workers, label);
        const ratio = round(ourResult.eventsPerSecond / rawResult.eventsPerSecond);
        const multiRow =
          pattern === 'turn' ? await raw(rawPool, 'multiRow', workers, `${label}-multi`) : undefined;
        const multiRowRatio =
          multiRow === undefined ? undefined : round(ourResult.eventsPerSecond / multiRow.eventsPerSecond);
        appends.push({
          pattern,
          streams: workers,
          ours: ourResult,
          raw: rawResult,
          ratio,
          rawMultiRow: multiRow,
          multiRowRatio,
        });
        log(
          `${pattern.padEnd(7)} streams=${String(workers).padStart(2)}  ours ${String(ourResult.eventsPerSecond).padStart(6)} ev/s ` +
            `(turn p50 ${ourResult.turnP50Ms} ms, p99 ${ourResult.turnP99Ms} ms)  raw ${String(rawResult.eventsPerSecond).padStart(6)} ev/s ` +
            `(turn p50 ${rawResult.turnP50Ms} ms, p99 ${rawResult.turnP99Ms} ms)  ours/raw ${ratio}` +
            (multiRow === undefined
              ? ''
              : `  [raw multi-row ${multiRow.eventsPerSecond} ev/s, ours/multi-row ${multiRowRatio}]`),
        );
      }
    }

    const foldStream = 'session-fold';
    for (let version = 0; version < FOLD_EVENTS; version += 500) {
      const batch = Array.from({ length: 500 }, (_, index) => turnEvents(version + index)[0] as NewEvent);
      await store.append(foldStream, batch, { tenantId: 'bench', expectedVersion: version });
    }
    // Let the log settle (what autovacuum would do shortly) so reads are not measured against it.
    log('vacuum analyze events');
    await rawPool.query('vacuum analyze events');
    const initial: Counter = { count: 0, tokens: 0 };
    const foldOnce = async (tag: string): Promise<void> => {
      const { state } = await store!.aggregate(foldStream, evolve, initial, {
        tenantId: 'bench',
        schemaTag: tag,
      });
      if (state.count !== FOLD_EVENTS) throw new Error(`fold saw ${state.count} events`);
    };
    const foldMs = await best(5, () => foldOnce('none'));
    const prefix = (
      await store.readStream(foldStream, { tenantId: 'bench', toVersion: FOLD_EVENTS - 100 })
    ).reduce(evolve, initial);
    await store.saveSnapshot({
      streamId: foldStream,
      tenantId: 'bench',
      version: FOLD_EVENTS - 100,
      schemaTag: 'snap',
      state: prefix,
    });
    const snapshotMs = await best(5, () => foldOnce('snap'));
    const fold = {
      events: FOLD_EVENTS,
      withoutSnapshot: { ms: round(foldMs), eventsPerSecond: round(FOLD_EVENTS / (foldMs / 1000), 0) },
      withSnapshot: {
        snapshotVersion: FOLD_EVENTS - 100,
        ms: round(snapshotMs),
        eventsPerSecond: round(FOLD_EVENTS / (snapshotMs / 1000), 0),
      },
    };
    log(
      `fold 10,000 events: ${fold.withoutSnapshot.eventsPerSecond} ev/s (${fold.withoutSnapshot.ms} ms); ` +
        `from a snapshot at 9,900: ${fold.withSnapshot.eventsPerSecond} ev/s equivalent (${fold.withSnapshot.ms} ms)`,
    );

    // Two passes over the whole log: the first also sets hint bits on rows just written.
    const readPass = async (): Promise<{ events: number; ms: number; clientCpuMs: number }> => {
      let events = 0;
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (let after = 0; ;) {
        const page = await store!.readAll({ after, limit: 5_000 });
        if (page.length === 0) break;
        events += page.length;
        after = page[page.length - 1]?.globalPosition ?? after;
      }
      const used = process.cpuUsage(cpu);
      return { events, ms: performance.now() - started, clientCpuMs: (used.user + used.system) / 1000 };
    };
    const firstPass = await readPass();
    const secondPass = await readPass();
    const readAll = {
      events: secondPass.events,
      ms: round(secondPass.ms),
      eventsPerSecond: round(secondPass.events / (secondPass.ms / 1000), 0),
      firstPassEventsPerSecond: round(firstPass.events / (firstPass.ms / 1000), 0),
      clientCpuMs: round(secondPass.clientCpuMs),
    };
    log(
      `readAll: ${readAll.events} events in ${readAll.ms} ms = ${readAll.eventsPerSecond} ev/s ` +
        `(first pass, setting hint bits: ${readAll.firstPassEventsPerSecond} ev/s; client CPU ${readAll.clientCpuMs} ms)`,
    );

    const at16 = appends.filter((row) => row.streams === 16).map((row) => row.ratio as number);
    const targets = {
      appendRatioAt16Streams: {
        target: 0.8,
        turn: at16[0],
        singles: at16[1],
        met: at16.every((ratio) => ratio >= 0.8),
      },
      fold: {
        target: 200_000,
        value: fold.withoutSnapshot.eventsPerSecond,
        met: fold.withoutSnapshot.eventsPerSecond >= 200_000,
      },
      readAll: { target: 100_000, value: readAll.eventsPerSecond, met: readAll.eventsPerSecond >= 100_000 },
    };
    console.table(
      appends.map((row) => {
        const o = row.ours as RunResult;
        const r = row.raw as RunResult;
        return {
          pattern: row.pattern,
          streams: row.streams,
          'ours ev/s': o.eventsPerSecond,
          'ours p50 ms': o.turnP50Ms,
          'ours p99 ms': o.turnP99Ms,
          'raw ev/s': r.eventsPerSecond,
          'raw p50 ms': r.turnP50Ms,
          'raw p99 ms': r.turnP99Ms,
          'ours/raw': row.ratio,
          'raw multi-row ev/s': (row.rawMultiRow as RunResult | undefined)?.eventsPerSecond ?? '',
          'ours/multi-row': row.multiRowRatio ?? '',
        };
      }),
    );
    log(`targets: ${JSON.stringify(targets)}`);
    await mkdir(new URL('./results/', import.meta.url), { recursive: true });
    await writeFile(
      new URL('./results/events.json', import.meta.url),
      `${JSON.stringify(
        {
          at: new Date().toISOString(),
          secondsPerRun: SECONDS_PER_RUN,
          eventsPerTurn: TURN,
          notes:
            'latency = one turn (5 events): one append of 5 events, or 5 sequential single-event appends; raw turn = BEGIN + 5 INSERTs + COMMIT; rawMultiRow = one 5-row INSERT (reference)',
          appends,
          fold,
          readAll,
          targets,
        },
        null,
        2,
      )}\n`,
    );
    log('wrote bench/results/events.json');
  } finally {
    await store?.close();
    await rawPool.end();
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}
