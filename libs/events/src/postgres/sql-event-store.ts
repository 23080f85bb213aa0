import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { aggregateStream } from '../aggregate.ts';
import type { EventEnvelope, EventMetadata, NewEvent } from '../envelope.ts';
import { InvalidEvent, StreamDeleted, StreamTenantMismatch, StreamVersionConflict } from '../errors.ts';
import { checkImport, expectedAsNumber, prepareEvents, verifyChain, type PreparedEvent } from '../prepare.ts';
import type {
  AppendOptions,
  AppendResult,
  DeclaredProjection,
  EventStore,
  ImportOptions,
  InlineProjection,
  ReadAllOptions,
  Page,
  ReadStreamOptions,
  Snapshot,
} from '../store.ts';
import { createAppendSignal, sharedPageReads, startSubscription, tellCommitted } from '../subscription.ts';
import { createUpcast, type Upcaster } from '../upcasting.ts';
import { driverErrorOf, translatePgError } from './pg-errors.ts';
import type { SqlDriver, SqlRow, SqlTransaction } from './sql-driver.ts';
import { timestamptzToIso } from './timestamptz.ts';

export const EVENTS_CHANNEL = 'agentledger_events';

export type SqlEventStoreOptions = Readonly<{
  /**
   * Run in every append's transaction (e.g. the `sessions` read model). With none (and no
   * per-append `inline`), an append is a single statement: one round trip.
   */
  projections?: readonly InlineProjection<SqlTransaction>[];
  upcasters?: readonly Upcaster[];
  /**
   * How other processes' subscribers learn of an append (they also poll as a fallback):
   * 'after-commit' (default): an append that starts while no other append of this store is in
   * flight notifies in its own statement (delivered at its commit, no statement of its own);
   * appends that overlap send one coalesced NOTIFY after they commit (Postgres serialises the
   * commits of notifying transactions, so a busy store does not notify in every append);
   * 'in-transaction' notifies inside every append; 'off' relies on polling. Subscribers of this
   * store are always woken in-process.
   */
  notify?: 'after-commit' | 'in-transaction' | 'off';
  /** How long `readAll` waits for a hole in positions to settle before stopping short of it (default 50 ms). */
  gapWaitMs?: number;
  /**
   * 'after-commit': how long a notification waits to cover more appends. Default 0: it goes as
   * soon as the append commits, and the appends that commit while it is in flight share the next.
   */
  notifyDelayMs?: number;
  /**
   * 'after-commit': the least time between two notifications (default 2 ms). A lone append still
   * wakes listeners at once; under a stream of appends they wake at most this late, and the store
   * sends one notification (a transaction that takes Postgres' notify lock) per interval instead
   * of one per append.
   */
  notifyIntervalMs?: number;
  /**
   * Group commit of single-statement appends (no inline projection): while `maxInFlight` batches
   * are running, further appends queue and go together as the next batch, one
   * `agentledger_append_batch` call, one transaction and one commit (up to `maxBatch` appends). Each
   * append runs in its own subtransaction: one that fails fails alone. No timer: an append that
   * finds a free slot goes at once. `false` sends every append on its own (default
   * `{ maxInFlight: 2, maxBatch: 64 }`).
   */
  groupCommit?: false | Readonly<{ maxInFlight?: number; maxBatch?: number }>;
}>;

/** The hot path: hashes are only read back when inline projections need the stored envelopes. */
const APPEND_TEXT =
  'select positions, next_version, duplicate from agentledger_append($1::text, $2::text, $3::integer, $4::text, $5::timestamptz, $6::text, $7::boolean)';

/** An append with its declared projection (migration 0016): one statement, the hashes read back. */
const APPEND_PROJECTED_TEXT =
  'select positions, next_version, duplicate, first_prev_hash, hashes from agentledger_append_projected($1::text, $2::text, $3::integer, $4::text, $5::timestamptz, $6::text, $7::boolean, $8::text, $9::jsonb)';

/**
 * The same two calls, also notifying in their own statement (so in their own transaction: the
 * notification is delivered at its commit), the payload the last parameter; a duplicate does not.
 */
const APPEND_NOTIFYING_TEXT = `select a.positions, a.next_version, a.duplicate, case when not a.duplicate then pg_notify('${EVENTS_CHANNEL}', $8) end from agentledger_append($1::text, $2::text, $3::integer, $4::text, $5::timestamptz, $6::text, $7::boolean) a`;
const APPEND_PROJECTED_NOTIFYING_TEXT = `select a.positions, a.next_version, a.duplicate, a.first_prev_hash, a.hashes, case when not a.duplicate then pg_notify('${EVENTS_CHANNEL}', $10) end from agentledger_append_projected($1::text, $2::text, $3::integer, $4::text, $5::timestamptz, $6::text, $7::boolean, $8::text, $9::jsonb) a`;

/** Group commit: parallel arrays, a result row per append (migrations 0012, 0016). */
const APPEND_BATCH_TEXT =
  'select ord, positions, next_version, duplicate, first_prev_hash, hashes, error_code, error_message, error_detail, error_constraint from agentledger_append_batch($1::text[], $2::text[], $3::integer[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::jsonb[])';

/** Lower-case words: the name of an `agentledger_project_<name>` function. */
const PROJECTION_NAME = /^[a-z][a-z_]*$/;

const COLUMNS =
  'global_position, stream_id, tenant_id, version, event_id, type, schema_version, data, metadata, recorded_at, prev_hash, hash';

/** Decodes a row of {@link COLUMNS} read with `queryArrays`. */
const arrayToEnvelope = (row: unknown[]): EventEnvelope => ({
  globalPosition: Number(row[0]),
  streamId: row[1] as string,
  tenantId: row[2] as string,
  version: row[3] as number,
  eventId: row[4] as string,
  type: row[5] as string,
  schemaVersion: row[6] as number,
  data: row[7],
  metadata: row[8] as EventMetadata,
  recordedAt: timestamptzToIso(row[9]),
  prevHash: row[10] as string,
  hash: row[11] as string,
});

/** An event as stored: what the append prepared, with the version, position and hashes it got. */
const storedEnvelope = (
  streamId: string,
  tenantId: string,
  event: PreparedEvent,
  at: Readonly<{ version: number; globalPosition: number; prevHash: string; hash: string }>,
): EventEnvelope => ({
  eventId: event.eventId,
  streamId,
  tenantId,
  version: at.version,
  globalPosition: at.globalPosition,
  type: event.type,
  schemaVersion: event.schemaVersion,
  data: JSON.parse(event.dataJson) as unknown,
  metadata: JSON.parse(event.metadataJson) as EventMetadata,
  recordedAt: event.recordedAt,
  prevHash: at.prevHash,
  hash: at.hash,
});

/** The hashes an append function returned: the first event's previous hash, then each event's. */
const chainOf = (row: SqlRow | undefined): Readonly<{ first: string; hashes: readonly string[] }> => ({
  first: String(row?.first_prev_hash),
  hashes: Array.isArray(row?.hashes) ? (row.hashes as string[]) : [],
});

/** Canonical JSON never holds a raw newline, so newline-joined bodies need no escaping. */
const bodiesOf = (prepared: readonly PreparedEvent[]): string =>
  prepared.map((event) => event.body).join('\n');

/** Index of the first row after a hole in positions (counting from `after + 1`) that starts above `above`. */
const firstHole = (after: number, rows: readonly unknown[][], above: number): number | undefined => {
  let expected = after + 1;
  for (const [index, row] of rows.entries()) {
    const position = Number(row[0]);
    if (position !== expected && expected > above) return index;
    expected = position + 1;
  }
  return undefined;
};

const isIdempotencyRace = (error: unknown): boolean => {
  const { code, constraint } = driverErrorOf(error);
  return code === '23505' && (constraint ?? '').startsWith('idempotency_keys');
};

/** An append of a group commit that failed in its subtransaction, shaped like the driver's error. */
class BatchedAppendError extends Error {
  readonly code: string;
  readonly detail: string | undefined;
  readonly constraint: string | undefined;
  constructor(row: SqlRow) {
    super(String(row.error_message));
    this.name = 'BatchedAppendError';
    this.code = String(row.error_code);
    this.detail =
      typeof row.error_detail === 'string' && row.error_detail !== '' ? row.error_detail : undefined;
    this.constraint =
      typeof row.error_constraint === 'string' && row.error_constraint !== ''
        ? row.error_constraint
        : undefined;
  }
}

/** An append's result row, and whether its own statement sent the notification. */
type AppendRow = Readonly<{ row: SqlRow | undefined; notified: boolean }>;

/**
 * One append in its own statement: `values` are the 9 parameters of `agentledger_append_projected`
 * (the last two null: no projection, the plain function without hashes). With `notifyAs`, the
 * statement also sends the notification, with that payload.
 */
const appendCall = (values: readonly unknown[], notifyAs?: string) => {
  const plain = values[7] === null;
  if (notifyAs === undefined)
    return plain
      ? { text: APPEND_TEXT, values: values.slice(0, 7), name: 'agentledger_append' }
      : { text: APPEND_PROJECTED_TEXT, values, name: 'agentledger_append_projected' };
  return plain
    ? {
        text: APPEND_NOTIFYING_TEXT,
        values: [...values.slice(0, 7), notifyAs],
        name: 'agentledger_append_notifying',
      }
    : {
        text: APPEND_PROJECTED_NOTIFYING_TEXT,
        values: [...values, notifyAs],
        name: 'agentledger_append_projected_notifying',
      };
};

const appendAlone = async (
  driver: SqlDriver,
  values: readonly unknown[],
  notifyAs?: string,
): Promise<AppendRow> => {
  const call = appendCall(values, notifyAs);
  const [row] = await driver.query(call.text, call.values, call.name);
  return { row, notified: notifyAs !== undefined };
};

type QueuedAppend = Readonly<{
  values: readonly unknown[];
  notifyAs: string | undefined;
  resolve: (settled: AppendRow) => void;
  reject: (error: unknown) => void;
}>;

/** A statement of the batcher's, with what to do with its rows or its error. */
type BatchStatement = Readonly<{
  text: string;
  values: readonly unknown[];
  name: string;
  settle: (rows: SqlRow[]) => void;
  fail: (error: unknown) => void;
}>;

/** One append: its own function call (as `appendAlone`), notifying in it if asked to. */
const aloneStatement = (item: QueuedAppend): BatchStatement => ({
  ...appendCall(item.values, item.notifyAs),
  settle: (rows) => item.resolve({ row: rows[0], notified: item.notifyAs !== undefined }),
  fail: item.reject,
});

/**
 * Several appends in one `agentledger_append_batch` call, each failing alone. The batch function
 * does not notify: an append that asked to is told it did not, and the store notifies after commit.
 */
const batchStatement = (items: readonly QueuedAppend[]): BatchStatement => {
  // One lock order for every batch: by stream id (stable, so one stream's appends keep theirs).
  const ordered = [...items].sort((a, b) =>
    String(a.values[0]) < String(b.values[0]) ? -1 : String(a.values[0]) > String(b.values[0]) ? 1 : 0,
  );
  const column = (index: number): unknown[] => ordered.map((item) => item.values[index]);
  return {
    text: APPEND_BATCH_TEXT,
    values: [column(0), column(1), column(2), column(3), column(4), column(5), column(7), column(8)],
    name: 'agentledger_append_batch',
    settle: (rows) => {
      for (const row of rows) {
        const item = ordered[Number(row.ord) - 1];
        if (item === undefined) continue;
        if (row.error_code === null || row.error_code === undefined) item.resolve({ row, notified: false });
        else item.reject(new BatchedAppendError(row));
      }
      const missing = new Error('the batched append returned no result');
      for (const [index, item] of ordered.entries())
        if (!rows.some((row) => Number(row.ord) === index + 1)) item.reject(missing);
    },
    fail: (error) => {
      for (const item of ordered) item.reject(error);
    },
  };
};

/**
 * Group commit over one driver: appends go at once while fewer than `maxInFlight` calls are
 * running; the ones that arrive meanwhile leave together as one batch when a call returns. On a
 * driver that queues statements (`queryWhenRun`), a call takes its appends when its statement
 * starts, so those that arrive while it waits its turn leave with it.
 */
const createAppendBatcher = (
  driver: SqlDriver,
  { maxInFlight = 2, maxBatch = 64 }: Readonly<{ maxInFlight?: number; maxBatch?: number }>,
) => {
  const queue: QueuedAppend[] = [];
  let running = 0;
  // A call waiting for its statement to start: appends arriving meanwhile join it.
  let forming = false;
  const take = (): BatchStatement => {
    forming = false;
    const batch = queue.splice(0, maxBatch);
    const [only] = batch;
    return batch.length === 1 && only !== undefined ? aloneStatement(only) : batchStatement(batch);
  };
  // A driver that does not queue statements builds the batch at once.
  const queryWhenRun: NonNullable<SqlDriver['queryWhenRun']> =
    driver.queryWhenRun ??
    ((build) => {
      const { text, values, name } = build();
      return driver.query(text, values, name);
    });
  const send = async (): Promise<void> => {
    let statement: BatchStatement | undefined;
    try {
      const rows = await queryWhenRun(() => (statement = take()));
      statement?.settle(rows);
    } catch (error) {
      // A driver that failed before building the statement fails the appends that waited for it.
      (statement ?? take()).fail(error);
    }
  };
  const pump = (): void => {
    while (queue.length > 0 && running < maxInFlight && !forming) {
      running += 1;
      forming = true;
      void send().finally(() => {
        running -= 1;
        pump();
      });
    }
  };
  return (values: readonly unknown[], notifyAs?: string): Promise<AppendRow> =>
    new Promise((resolve, reject) => {
      queue.push({ values, notifyAs, resolve, reject });
      pump();
    });
};

const asNumbers = (value: unknown): number[] => (Array.isArray(value) ? value.map(Number) : []);

/** One attempt of an append: what `append` worked out for it. */
type AppendAttempt = Readonly<{
  streamId: string;
  prepared: readonly PreparedEvent[];
  appendOptions: AppendOptions<SqlTransaction>;
  /** Inline projections: the append runs in a transaction of its own with them. */
  projections: readonly InlineProjection<SqlTransaction>[];
  /** The parameters of the append's SQL call. */
  values: readonly unknown[];
  /** Set when the append notifies in its own statement (it started alone). */
  notifyAs: string | undefined;
  toResult: (row: SqlRow | undefined) => AppendResult;
}>;

/**
 * The event store over SQL: the same code on Postgres (`pg`) and PGlite. Appends call the
 * `agentledger_append` function of the migrations; `readAll` (`agentledger_read_all`) returns only
 * rows whose `transaction_id` is below the oldest transaction still running in this database
 * (docs/architecture.md's `pg_snapshot_xmin(pg_current_snapshot())` guard, narrowed to the database so other
 * databases' long transactions do not stall it), so an event that commits late is never skipped.
 */
export const createSqlEventStore = (
  driver: SqlDriver,
  options: SqlEventStoreOptions = {},
): EventStore<SqlTransaction> => {
  const upcast = createUpcast(options.upcasters);
  const notifyMode = options.notify ?? 'after-commit';
  const signal = createAppendSignal();
  // This store's notifications carry its id: their echo wakes no subscription of its own, which
  // its appends woke in-process already.
  const notifier = randomUUID();
  // After-commit NOTIFY of overlapping appends, coalesced: at most one in flight; the appends that
  // commit meanwhile share the next one, so a burst costs few notifications (each NOTIFY is a
  // transaction that takes Postgres' global notify lock at commit).
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> | undefined;
  let again = false;
  let lastFired = Number.NEGATIVE_INFINITY;
  const notifyIntervalMs = options.notifyIntervalMs ?? 2;
  const fireNotify = (): void => {
    timer = undefined;
    lastFired = performance.now();
    inFlight = driver
      .query(`select pg_notify('${EVENTS_CHANNEL}', $1)`, [notifier])
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        inFlight = undefined;
        if (again) {
          again = false;
          scheduleNotify();
        }
      });
  };
  const scheduleNotify = (): void => {
    if (timer !== undefined) return;
    if (inFlight !== undefined) {
      again = true;
      return;
    }
    const spacing = Math.min(notifyIntervalMs, lastFired + notifyIntervalMs - performance.now());
    const delay = Math.max(options.notifyDelayMs ?? 0, spacing);
    if (delay <= 0) {
      fireNotify();
      return;
    }
    timer = setTimeout(fireNotify, delay);
    timer.unref?.();
  };
  const commitListeners = new Set<(own?: AppendResult) => void>();
  /** Wakes this process' subscribers and listeners; other processes' too, unless the append did. */
  const appended = (result: AppendResult, notified: boolean): AppendResult => {
    if (result.duplicate || result.versions.length === 0) return result;
    signal.notify();
    tellCommitted(commitListeners, result);
    if (!notified && notifyMode === 'after-commit') scheduleNotify();
    return result;
  };
  // Appends of this store in flight. One that starts alone notifies in its own statement (no
  // NOTIFY of its own, listeners woken at its commit); those that overlap share the coalesced one.
  let appending = 0;
  const batched =
    options.groupCommit === false || notifyMode === 'in-transaction'
      ? undefined
      : createAppendBatcher(driver, options.groupCommit ?? {});
  let unlisten: Promise<(() => Promise<void>) | undefined> | undefined;
  const subscriptions = new Set<{ stop: () => Promise<void> }>();

  const mapError = (
    error: unknown,
    streamId: string,
    appendOptions: AppendOptions<SqlTransaction>,
    declared?: DeclaredProjection,
  ): unknown => {
    const { code, detail, constraint, message } = driverErrorOf(error);
    const refused = code === undefined ? undefined : declared?.refusal?.({ code, message });
    if (refused !== undefined) return refused;
    if (code === 'ALV01') {
      const expected =
        appendOptions.expectedVersion === 'no_stream' ? 'no_stream' : Number(appendOptions.expectedVersion);
      return new StreamVersionConflict(streamId, expected, Number(detail));
    }
    if (code === 'ALT01') return new StreamTenantMismatch(streamId);
    if (code === 'ALT02') return new StreamDeleted(streamId);
    // Class 22, data exception: e.g. a lone surrogate that jsonb refuses.
    if (code?.startsWith('22') === true)
      return new InvalidEvent(`an event of this append was refused: ${String(message)}`, error);
    if (code === '23505' && (constraint === 'events_event_id_key' || String(detail).includes('event_id')))
      return new InvalidEvent(`an event id of this append is already stored (stream ${streamId})`, error);
    return translatePgError(error);
  };

  const append = async (
    streamId: string,
    newEvents: readonly NewEvent[],
    appendOptions: AppendOptions<SqlTransaction>,
  ): Promise<AppendResult> => {
    const now = new Date();
    const { tenantId } = appendOptions;
    const prepared = prepareEvents(streamId, newEvents, appendOptions, now);
    const expected = expectedAsNumber(appendOptions.expectedVersion);
    const projections = [
      ...(options.projections ?? []),
      ...(appendOptions.inline ? [appendOptions.inline] : []),
    ];
    const { declared, pending } = declaredOf(streamId, prepared, expected, projections.length, appendOptions);
    const values = [
      streamId,
      tenantId,
      expected,
      appendOptions.idempotencyKey ?? null,
      now.toISOString(),
      bodiesOf(prepared),
      notifyMode === 'in-transaction',
      declared?.name ?? null,
      declared === undefined ? null : JSON.stringify(declared.argument),
    ];
    const toResult = (row: SqlRow | undefined): AppendResult => {
      const globalPositions = asNumbers(row?.positions);
      const next = Number(row?.next_version);
      const versions = globalPositions.map((_, index) => next - globalPositions.length + index + 1);
      const result = {
        streamId,
        versions,
        globalPositions,
        nextExpectedVersion: next,
        duplicate: row?.duplicate === true,
      };
      if (declared === undefined || result.duplicate) return result;
      // The envelopes the projection was given, completed with what the database assigned.
      const { first, hashes } = chainOf(row);
      const events = pending.map((event, index) => ({
        ...event,
        version: versions[index] ?? 0,
        globalPosition: globalPositions[index] ?? 0,
        prevHash: index === 0 ? first : (hashes[index - 1] ?? ''),
        hash: hashes[index] ?? '',
      }));
      return { ...result, events };
    };
    const notifyAs = appending === 0 && notifyMode === 'after-commit' ? notifier : undefined;
    const attempt: AppendAttempt = {
      streamId,
      prepared,
      appendOptions,
      projections,
      values,
      notifyAs,
      toResult,
    };
    appending += 1;
    try {
      for (let tries = 1; ; tries += 1) {
        try {
          return await appendOnce(attempt);
        } catch (error) {
          // Two appends with one idempotency key met on its primary key: the retry finds the first.
          if (tries === 1 && isIdempotencyRace(error)) continue;
          throw mapError(error, streamId, appendOptions, declared);
        }
      }
    } finally {
      appending -= 1;
    }
  };

  /**
   * The append's declared projection, computed from its events as they will be stored (`pending`:
   * positions and hashes still to come).
   */
  const declaredOf = (
    streamId: string,
    prepared: readonly PreparedEvent[],
    expected: number | null,
    inlineProjections: number,
    appendOptions: AppendOptions<SqlTransaction>,
  ): Readonly<{ declared?: DeclaredProjection; pending: readonly EventEnvelope[] }> => {
    if (appendOptions.declared === undefined) return { pending: [] };
    if (inlineProjections > 0)
      throw new InvalidEvent('an append has either inline projections or a declared one, not both');
    const pending = prepared.map((event, index) =>
      storedEnvelope(streamId, appendOptions.tenantId, event, {
        version: expected === null ? 0 : expected + index + 1,
        globalPosition: 0,
        prevHash: '',
        hash: '',
      }),
    );
    const declared = appendOptions.declared(pending);
    if (!PROJECTION_NAME.test(declared.name))
      throw new InvalidEvent(`declared projection name "${declared.name}": lower-case words only`);
    return { declared, pending };
  };

  /** One attempt of an append, with everything `append` worked out for it. */
  const appendOnce = async (attempt: AppendAttempt): Promise<AppendResult> => {
    const { streamId, prepared, appendOptions, projections } = attempt;
    const { values, notifyAs, toResult } = attempt;
    if (projections.length === 0 && batched !== undefined) {
      const { row, notified } = await batched(values, notifyAs);
      return appended(toResult(row), notified);
    }
    if (projections.length === 0) {
      const { row, notified } = await appendAlone(driver, values, notifyAs);
      return appended(toResult(row), notified);
    }
    const committed = await driver.db.transaction(async (tx) => {
      const [a, b, c, d, e, f, g] = values;
      const { rows } = (await tx.execute(
        sql`select positions, next_version, duplicate, first_prev_hash, hashes from agentledger_append(${a}::text, ${b}::text, ${c}::integer, ${d}::text, ${e}::timestamptz, ${f}::text, ${g}::boolean)`,
      )) as unknown as { rows: SqlRow[] };
      const result = toResult(rows[0]);
      if (result.duplicate) return result;
      const { first, hashes } = chainOf(rows[0]);
      const stored = prepared.map((event, index) =>
        storedEnvelope(streamId, appendOptions.tenantId, event, {
          version: result.versions[index] ?? 0,
          globalPosition: result.globalPositions[index] ?? 0,
          prevHash: index === 0 ? first : (hashes[index - 1] ?? ''),
          hash: hashes[index] ?? '',
        }),
      );
      for (const projection of projections)
        await projection({
          tx: tx as unknown as SqlTransaction,
          streamId,
          events: stored,
          options: appendOptions,
        });
      return result;
    });
    return appended(committed, false);
  };

  /** One transaction: the stream head (refused if the stream exists), the rows as given, projections. */
  const importStream = async (
    streamId: string,
    events: readonly EventEnvelope[],
    importOptions: ImportOptions<SqlTransaction>,
  ): Promise<AppendResult> => {
    const { tenantId } = importOptions;
    const verified = checkImport(streamId, tenantId, events);
    const rows = JSON.stringify(
      events.map((e) => ({
        version: e.version,
        eventId: e.eventId,
        type: e.type,
        schemaVersion: e.schemaVersion,
        data: e.data,
        metadata: e.metadata,
        recordedAt: e.recordedAt,
        prevHash: e.prevHash,
        hash: e.hash,
      })),
    );
    const versions = events.map((e) => e.version);
    const projections = [
      ...(options.projections ?? []),
      ...(importOptions.inline ? [importOptions.inline] : []),
    ];
    try {
      const result = await driver.db.transaction(async (tx) => {
        const run = async (query: ReturnType<typeof sql>): Promise<SqlRow[]> =>
          ((await tx.execute(query)) as unknown as { rows: SqlRow[] }).rows;
        const created = await run(
          sql`insert into streams (stream_id, tenant_id, version, head_hash, prev_head_hash)
              values (${streamId}, ${tenantId}, ${events.length}, ${verified.headHash}, ${events.at(-1)?.prevHash})
              on conflict (stream_id) do nothing returning stream_id`,
        );
        if (created.length === 0) {
          const [head] = await run(
            sql`select tenant_id, version, head_hash from streams where stream_id = ${streamId} for share`,
          );
          if (head?.tenant_id !== tenantId) throw new StreamTenantMismatch(streamId);
          if (Number(head.version) === events.length && head.head_hash === verified.headHash) {
            const positions = await run(
              sql`select global_position from events where stream_id = ${streamId} order by version`,
            );
            return { positions: positions.map((row) => Number(row.global_position)), duplicate: true };
          }
          throw new StreamVersionConflict(streamId, 'no_stream', Number(head.version));
        }
        const inserted = await run(
          sql`insert into events (stream_id, tenant_id, version, event_id, type, schema_version, data, metadata, recorded_at, prev_hash, hash)
              select ${streamId}, ${tenantId}, r.version, r."eventId", r.type, r."schemaVersion", r.data, r.metadata,
                     r."recordedAt"::timestamptz, r."prevHash", r.hash
                from jsonb_to_recordset(${rows}::jsonb) as r(version integer, "eventId" uuid, type text,
                     "schemaVersion" integer, data jsonb, metadata jsonb, "recordedAt" text, "prevHash" text, hash text)
               order by r.version
            returning global_position`,
        );
        const positions = inserted.map((row) => Number(row.global_position)).sort((a, b) => a - b);
        const stored = events.map((e, index) => ({ ...e, globalPosition: positions[index] ?? 0 }));
        for (const projection of projections)
          await projection({
            tx: tx as unknown as SqlTransaction,
            streamId,
            events: stored,
            options: { tenantId, expectedVersion: 'no_stream' },
          });
        return { positions, duplicate: false };
      });
      return appended(
        {
          streamId,
          versions,
          globalPositions: result.positions,
          nextExpectedVersion: events.length,
          duplicate: result.duplicate,
        },
        false,
      );
    } catch (error) {
      throw mapError(error, streamId, { tenantId, expectedVersion: 'no_stream' });
    }
  };

  const readStream = async (
    streamId: string,
    readOptions: ReadStreamOptions,
  ): Promise<readonly EventEnvelope[]> => {
    const from = readOptions.fromVersion ?? 1;
    const to = readOptions.toVersion ?? 2_147_483_647;
    const limit = readOptions.limit ?? null;
    const rows = await driver.queryArrays(
      `select ${COLUMNS} from events where stream_id = $1 and tenant_id = $2 and version >= $3 and version <= $4 order by version limit $5`,
      [streamId, readOptions.tenantId, from, to, limit],
      'agentledger_read_stream',
    );
    return readOptions.raw === true
      ? rows.map(arrayToEnvelope)
      : rows.map((row) => upcast(arrayToEnvelope(row)));
  };

  const readWindow = (after: number, limit: number | null): Promise<unknown[][]> =>
    driver.oneSession === true
      ? driver.queryArrays(
          `select ${COLUMNS} from events where global_position > $1 order by global_position limit $2`,
          [after, limit],
          'agentledger_read_all_one_session',
        )
      : driver.queryArrays(
          `select ${COLUMNS} from agentledger_read_all($1, $2, null)`,
          [after, limit],
          'agentledger_read_all',
        );

  /**
   * Holes in positions and when they are final. A mark is a fresh xid (its own statement), taken
   * after a read that saw a hole; `upTo` is the highest position that read returned. An append
   * takes its xid (stream head UPDATE) before its positions, so whoever took a position up to
   * `upTo` is older than the mark: once no transaction of this database older than the mark is
   * running, every hole up to `upTo` is final (a rolled-back append) and stays so. One mark is kept
   * until it settles, so holes are passed even when the database is never idle.
   */
  let finalUpTo = 0;
  let pendingMark: { mark: string; upTo: number } | undefined;

  const markSettled = async (mark: string): Promise<boolean> => {
    const deadline = Date.now() + (options.gapWaitMs ?? 50);
    for (;;) {
      const [row] = await driver.query('select agentledger_safe_xid8() > $1::xid8 as settled', [mark]);
      if (row?.settled === true) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };

  /**
   * Rows after `after` up to the first hole in positions a running transaction may still fill.
   * The xid guard alone is not enough: a transaction can take its xid before another one's and its
   * position after it, commit first, and so show position p+1 while p is still in flight.
   */
  const gapFreeWindow = async (
    after: number,
    limit: number | null,
    read: unknown[][] | undefined = undefined,
  ): Promise<unknown[][]> => {
    const rows = read ?? (await readWindow(after, limit));
    if (driver.oneSession === true) return rows;
    const hole = firstHole(after, rows, finalUpTo);
    if (hole === undefined) return rows;
    if (pendingMark === undefined) {
      const [row] = await driver.query('select pg_current_xact_id()::text as mark', []);
      pendingMark = { mark: String(row?.mark), upTo: Number(rows.at(-1)?.[0]) };
    }
    const pending = pendingMark;
    if (!(await markSettled(pending.mark))) return rows.slice(0, hole);
    finalUpTo = Math.max(finalUpTo, pending.upTo);
    if (pendingMark === pending) pendingMark = undefined;
    const again = await readWindow(after, limit);
    const newer = firstHole(after, again, finalUpTo);
    return newer === undefined ? again : again.slice(0, newer);
  };

  /**
   * A page of every tenant (Postgres) and the committed head, in one statement and so one snapshot
   * (`readPage`: the relay's read and the subscriptions'): a short page below the head was held
   * back by a transaction still running.
   */
  const readPageWithHead = async ({ after = 0, limit }: ReadAllOptions = {}): Promise<Page> => {
    const rows = await driver.queryArrays(
      `with page as (select ${COLUMNS} from agentledger_read_all($1, $2, null))
       select page.*, h.head from (select coalesce(max(global_position), 0) as head from events) h
         left join page on true order by page.global_position`,
      [after, limit ?? null],
      'agentledger_read_all_head',
    );
    const committedHead = Number(rows[0]?.at(-1) ?? 0);
    const read =
      rows[0]?.[0] === null || rows[0]?.[0] === undefined ? [] : rows.map((row) => row.slice(0, -1));
    const window = await gapFreeWindow(after, limit ?? null, read);
    return { events: window.map((row) => upcast(arrayToEnvelope(row))), committedHead };
  };
  const sharedPages = sharedPageReads(readPageWithHead, signal.count);

  const readAll = async (readOptions: ReadAllOptions = {}): Promise<readonly EventEnvelope[]> => {
    const { after = 0, limit, tenantId } = readOptions;
    if (tenantId === undefined)
      return (await gapFreeWindow(after, limit ?? null)).map((row) => upcast(arrayToEnvelope(row)));
    // Holes are judged on the positions of every tenant, then this tenant's rows are kept.
    const wanted = limit ?? Infinity;
    const window = Math.min(Math.max(wanted, 500), 5_000);
    const out: EventEnvelope[] = [];
    for (let cursor = after; out.length < wanted;) {
      const rows = await gapFreeWindow(cursor, window);
      for (const row of rows) {
        cursor = Number(row[0]);
        if (row[2] === tenantId) out.push(upcast(arrayToEnvelope(row)));
        if (out.length >= wanted) break;
      }
      if (rows.length < window) break;
    }
    return out;
  };

  const loadSnapshot = async <S>(
    streamId: string,
    { tenantId, schemaTag }: { tenantId: string; schemaTag: string },
  ): Promise<Snapshot<S> | undefined> => {
    const [row] = await driver.query(
      'select version, state from snapshots where stream_id = $1 and schema_tag = $2 and tenant_id = $3',
      [streamId, schemaTag, tenantId],
    );
    return row === undefined
      ? undefined
      : { streamId, tenantId, schemaTag, version: Number(row.version), state: row.state as S };
  };

  const saveSnapshot = async (snapshot: Snapshot): Promise<void> => {
    await driver.query(
      `insert into snapshots (stream_id, schema_tag, tenant_id, version, state) values ($1, $2, $3, $4, $5::jsonb)
       on conflict (stream_id, schema_tag) do update set version = excluded.version, state = excluded.state, created_at = now()
       where snapshots.version < excluded.version and snapshots.tenant_id = excluded.tenant_id`,
      [
        snapshot.streamId,
        snapshot.schemaTag,
        snapshot.tenantId,
        snapshot.version,
        JSON.stringify(snapshot.state),
      ],
    );
  };

  const loadCheckpoint = async (subscriberId: string): Promise<number | undefined> => {
    const [row] = await driver.query('select position from checkpoints where subscriber_id = $1', [
      subscriberId,
    ]);
    return row === undefined ? undefined : Number(row.position);
  };

  const saveCheckpoint = async (subscriberId: string, position: number): Promise<void> => {
    await driver.query(
      `insert into checkpoints (subscriber_id, position) values ($1, $2)
       on conflict (subscriber_id) do update set position = excluded.position, updated_at = now()`,
      [subscriberId, position],
    );
  };

  const ensureListening = (): void => {
    unlisten ??= driver
      .listen(EVENTS_CHANNEL, (payload) => {
        if (payload === notifier) return;
        signal.notify();
        tellCommitted(commitListeners);
      })
      .catch(() => undefined);
  };

  const committedHead = async ({ tenantId }: { tenantId?: string } = {}): Promise<number> => {
    const [row] =
      tenantId === undefined
        ? await driver.query('select coalesce(max(global_position), 0) as head from events', [])
        : await driver.query(
            'select coalesce(max(global_position), 0) as head from events where tenant_id = $1',
            [tenantId],
          );
    return Number(row?.head ?? 0);
  };

  return {
    append,
    importStream,
    readStream,
    readAll,
    committedHead,
    // One session: a read returns every committed event, nothing is ever held back.
    readPage:
      driver.oneSession === true
        ? async (pageOptions) => ({ events: await readAll(pageOptions) })
        : readPageWithHead,
    onCommit: (listener) => {
      ensureListening();
      commitListeners.add(listener);
      return () => {
        commitListeners.delete(listener);
      };
    },
    subscribe: (subscribeOptions) => {
      ensureListening();
      const subscription = startSubscription(
        {
          readAll,
          loadCheckpoint,
          saveCheckpoint,
          headPosition: async () => {
            if (driver.oneSession === true) return committedHead();
            const [row] = await driver.query('select agentledger_safe_position() as head', []);
            return Number(row?.head ?? 0);
          },
          appendCount: signal.count,
          waitForAppend: signal.wait,
          // One session: a read returns every committed event, nothing is ever held back.
          ...(driver.oneSession === true ? {} : { committedHead }),
          ...(driver.oneSession === true || subscribeOptions.tenantId !== undefined
            ? {}
            : { readPage: sharedPages }),
        },
        subscribeOptions,
      );
      subscriptions.add(subscription);
      void subscription.done.catch(() => undefined).finally(() => subscriptions.delete(subscription));
      return subscription;
    },
    verifyStream: async (streamId, { tenantId }) => {
      const rows = await driver.queryArrays(
        `select ${COLUMNS} from events where stream_id = $1 and tenant_id = $2 order by version`,
        [streamId, tenantId],
      );
      const [head] = await driver.query(
        'select version, head_hash from streams where stream_id = $1 and tenant_id = $2',
        [streamId, tenantId],
      );
      return verifyChain(
        streamId,
        rows.map(arrayToEnvelope),
        head === undefined ? undefined : { version: Number(head.version), hash: String(head.head_hash) },
      );
    },
    aggregate: (streamId, evolve, initial, aggregateOptions) =>
      aggregateStream(
        {
          readStream,
          loadSnapshot,
          saveSnapshot,
          headVersion: async (id, tenantId) => {
            const [row] = await driver.query(
              'select version from streams where stream_id = $1 and tenant_id = $2',
              [id, tenantId],
            );
            return Number(row?.version ?? 0);
          },
        },
        streamId,
        evolve,
        initial,
        aggregateOptions,
      ),
    loadCheckpoint,
    saveCheckpoint,
    loadSnapshot,
    saveSnapshot,
    close: async () => {
      commitListeners.clear();
      await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
      const stop = await unlisten;
      await stop?.();
      if (timer !== undefined) {
        clearTimeout(timer);
        fireNotify();
      }
      await inFlight;
      await driver.close();
    },
  };
};
