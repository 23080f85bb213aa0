import { sql } from 'drizzle-orm';
import {
  bigint,
  customType,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';

/** `xid8`: the 64-bit transaction id that guards `readAll` against late commits. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/**
 * One row per event, never updated or deleted. `global_position` increases across streams;
 * `transaction_id` lets readers skip positions whose transactions may still commit.
 */
export const events = pgTable(
  'events',
  {
    globalPosition: bigint('global_position', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    streamId: text('stream_id').notNull(),
    tenantId: text('tenant_id').notNull(),
    version: integer('version').notNull(),
    eventId: uuid('event_id').notNull(),
    type: text('type').notNull(),
    schemaVersion: integer('schema_version').notNull(),
    data: jsonb('data').notNull(),
    metadata: jsonb('metadata').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'string', precision: 3 }).notNull(),
    transactionId: xid8('transaction_id')
      .notNull()
      .default(sql`pg_current_xact_id()`),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (table) => [
    unique('events_stream_version_key').on(table.streamId, table.version),
    unique('events_event_id_key').on(table.eventId),
  ],
);

/** One row per stream: its head, locked by every append to serialise versions. */
export const streams = pgTable('streams', {
  streamId: text('stream_id').primaryKey(),
  tenantId: text('tenant_id').notNull(),
  version: integer('version').notNull(),
  headHash: text('head_hash').notNull(),
  /** The head hash before the last append: lets one UPDATE both lock the head and move it. */
  prevHeadHash: text('prev_head_hash'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Subscriber id → the global position it has handled up to (relay, subscriptions). */
export const checkpoints = pgTable('checkpoints', {
  subscriberId: text('subscriber_id').primaryKey(),
  position: bigint('position', { mode: 'number' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** The newest folded state of a stream per state schema tag. */
export const snapshots = pgTable(
  'snapshots',
  {
    streamId: text('stream_id').notNull(),
    schemaTag: text('schema_tag').notNull(),
    tenantId: text('tenant_id').notNull(),
    version: integer('version').notNull(),
    state: jsonb('state').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.streamId, table.schemaTag] })],
);

/** (tenant, stream, key) → the first append's result; written in that append's transaction. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    tenantId: text('tenant_id').notNull(),
    streamId: text('stream_id').notNull(),
    key: text('key').notNull(),
    result: jsonb('result').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.streamId, table.key] })],
);
