import { sql, type SQL } from 'drizzle-orm';
import { type AnyPgDatabase, translatingPgErrors } from '@agentledger/events/postgres';
import { WEBHOOKS_CHANNEL } from './endpoint-cache.ts';
import { plainSecrets, type SecretBox } from './secret-box.ts';
import type {
  ClaimedDelivery,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookStore,
} from './webhook-store.port.ts';

type Row = Record<string, unknown>;

const rowsOf = async (db: AnyPgDatabase, query: SQL): Promise<Row[]> =>
  ((await db.execute(query)) as unknown as { rows: Row[] }).rows;

/** A text[] parameter (drizzle would spread a JS array into a list). */
const textArray = (values: readonly string[]): SQL =>
  sql`ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;

const iso = (date: Date): string => date.toISOString();
const dateOf = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
const optionalDate = (value: unknown): Date | undefined =>
  value === null || value === undefined ? undefined : dateOf(value);
const strings = (value: unknown): readonly string[] => (Array.isArray(value) ? value.map(String) : []);

/**
 * A column that notifies the written row's tenant on `WEBHOOKS_CHANNEL` when the write commits
 * (every process' endpoint cache forgets it), and never when it rolls back.
 */
const notified = sql`pg_notify(${WEBHOOKS_CHANNEL}, tenant_id) AS notified`;

const ownerOf = (r: Row): string => `${String(r.tenant_id)}/${String(r.endpoint_id)}`;

const toEndpoint = (r: Row, box: SecretBox): WebhookEndpoint => ({
  tenantId: String(r.tenant_id),
  endpointId: String(r.endpoint_id),
  url: String(r.url),
  eventTypes: strings(r.event_types),
  statuses: strings(r.statuses),
  matchTypes: strings(r.match_types),
  secret: box.open(String(r.secret), ownerOf(r)),
  createdAt: dateOf(r.created_at),
  updatedAt: dateOf(r.updated_at),
});

const toDelivery = (r: Row): WebhookDelivery => ({
  deliveryId: String(r.delivery_id),
  tenantId: String(r.tenant_id),
  endpointId: String(r.endpoint_id),
  streamId: String(r.stream_id),
  globalPosition: Number(r.global_position),
  eventType: String(r.event_type),
  payload: String(r.payload),
  status: String(r.status) as WebhookDelivery['status'],
  attempts: Number(r.attempts),
  nextAttemptAt: dateOf(r.next_attempt_at),
  retryUntil: dateOf(r.retry_until),
  lastStatus: r.last_status === null || r.last_status === undefined ? undefined : Number(r.last_status),
  lastError: r.last_error === null || r.last_error === undefined ? undefined : String(r.last_error),
  createdAt: dateOf(r.created_at),
  deliveredAt: optionalDate(r.delivered_at),
});

const toClaimed = (r: Row, box: SecretBox): ClaimedDelivery => ({
  ...toDelivery(r),
  url: String(r.url),
  secret: box.open(String(r.secret), ownerOf(r)),
});

/**
 * Webhook endpoints and deliveries on Postgres or PGlite (migrations/gateway/0001_webhooks.sql).
 * Secrets are stored through `box` (sealed with the operator's key when one is configured).
 */
export const createSqlWebhookStore = (db: AnyPgDatabase, box: SecretBox = plainSecrets): WebhookStore =>
  translatingPgErrors({
    putEndpoint: async (e) => {
      const [row] = await rowsOf(
        db,
        sql`WITH written AS (INSERT INTO webhook_endpoints
            (tenant_id, endpoint_id, url, event_types, statuses, match_types, secret, created_at, updated_at)
          VALUES (${e.tenantId}, ${e.endpointId}, ${e.url}, ${textArray(e.eventTypes)}, ${textArray(e.statuses)},
            ${textArray(e.matchTypes)}, ${box.seal(e.secret, `${e.tenantId}/${e.endpointId}`)}, ${iso(e.createdAt)}::timestamptz, ${iso(e.updatedAt)}::timestamptz)
          ON CONFLICT (tenant_id, endpoint_id) DO UPDATE SET url = excluded.url,
            event_types = excluded.event_types, statuses = excluded.statuses,
            match_types = excluded.match_types, updated_at = excluded.updated_at
          RETURNING *, (xmax = 0) AS inserted)
          SELECT *, ${notified} FROM written`,
      );
      return { endpoint: toEndpoint(row!, box), created: row!.inserted === true };
    },
    getEndpoint: async (tenantId, endpointId) => {
      const [row] = await rowsOf(
        db,
        sql`SELECT * FROM webhook_endpoints WHERE tenant_id = ${tenantId} AND endpoint_id = ${endpointId}`,
      );
      return row === undefined ? undefined : toEndpoint(row, box);
    },
    listEndpoints: async (tenantId) =>
      (
        await rowsOf(
          db,
          sql`SELECT * FROM webhook_endpoints WHERE tenant_id = ${tenantId} ORDER BY endpoint_id`,
        )
      ).map((r) => toEndpoint(r, box)),
    deleteEndpoint: async (tenantId, endpointId) => {
      const gone = await rowsOf(
        db,
        sql`WITH gone AS (DELETE FROM webhook_endpoints WHERE tenant_id = ${tenantId} AND endpoint_id = ${endpointId}
          RETURNING tenant_id, endpoint_id)
          SELECT endpoint_id, ${notified} FROM gone`,
      );
      await db.execute(
        sql`DELETE FROM webhook_deliveries WHERE tenant_id = ${tenantId} AND endpoint_id = ${endpointId}
          AND status <> 'delivered'`,
      );
      return gone.length === 1;
    },
    rotateSecret: async (tenantId, endpointId, secret, now) =>
      (
        await rowsOf(
          db,
          sql`WITH rotated AS (UPDATE webhook_endpoints SET secret = ${box.seal(secret, `${tenantId}/${endpointId}`)}, updated_at = ${iso(now)}::timestamptz
            WHERE tenant_id = ${tenantId} AND endpoint_id = ${endpointId} RETURNING tenant_id, endpoint_id)
            SELECT endpoint_id, ${notified} FROM rotated`,
        )
      ).length === 1,
    endpointsOfTenants: async (tenantIds) =>
      tenantIds.length === 0
        ? []
        : (
            await rowsOf(
              db,
              sql`SELECT * FROM webhook_endpoints WHERE tenant_id IN (${sql.join(
                tenantIds.map((id) => sql`${id}`),
                sql`, `,
              )}) ORDER BY tenant_id, endpoint_id`,
            )
          ).map((r) => toEndpoint(r, box)),
    addDeliveries: async (deliveries) => {
      for (const d of deliveries)
        await db.execute(
          sql`INSERT INTO webhook_deliveries (delivery_id, tenant_id, endpoint_id, stream_id, global_position,
              event_type, payload, status, next_attempt_at, retry_until, created_at)
            VALUES (${d.deliveryId}, ${d.tenantId}, ${d.endpointId}, ${d.streamId}, ${d.globalPosition},
              ${d.eventType}, ${d.payload}, 'pending', ${iso(d.now)}::timestamptz,
              ${iso(d.retryUntil)}::timestamptz, ${iso(d.now)}::timestamptz)
            ON CONFLICT (delivery_id) DO NOTHING`,
        );
    },
    claimDue: async (now, limit, leaseMs) =>
      (
        await rowsOf(
          db,
          sql`WITH due AS (
              SELECT d.delivery_id FROM webhook_deliveries d
              WHERE d.status = 'pending' AND d.next_attempt_at <= ${iso(now)}::timestamptz
                AND (d.claimed_until IS NULL OR d.claimed_until <= ${iso(now)}::timestamptz)
                AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                  WHERE p.tenant_id = d.tenant_id AND p.endpoint_id = d.endpoint_id
                    AND p.stream_id = d.stream_id AND p.status = 'pending'
                    AND p.global_position < d.global_position)
              ORDER BY d.next_attempt_at, d.global_position
              LIMIT ${limit}
              FOR UPDATE OF d SKIP LOCKED)
            UPDATE webhook_deliveries w
            SET claimed_until = ${iso(new Date(now.getTime() + leaseMs))}::timestamptz, attempts = w.attempts + 1
            FROM due, webhook_endpoints e
            WHERE w.delivery_id = due.delivery_id AND e.tenant_id = w.tenant_id AND e.endpoint_id = w.endpoint_id
            RETURNING w.*, e.url, e.secret`,
        )
      )
        .map((r) => toClaimed(r, box))
        .sort((a, b) => a.globalPosition - b.globalPosition),
    recordAttempt: async ({ deliveryId, attempts }, outcome) => {
      const status = outcome.status ?? null;
      const update =
        outcome.kind === 'delivered'
          ? sql`status = 'delivered', delivered_at = ${iso(outcome.at)}::timestamptz, last_error = NULL`
          : outcome.kind === 'dead'
            ? sql`status = 'dead', last_error = ${outcome.error}`
            : sql`next_attempt_at = ${iso(outcome.nextAttemptAt)}::timestamptz, last_error = ${outcome.error}`;
      await db.execute(
        sql`UPDATE webhook_deliveries SET ${update}, last_status = ${status}, claimed_until = NULL
          WHERE delivery_id = ${deliveryId} AND status = 'pending' AND attempts = ${attempts}`,
      );
    },
    listDeliveries: async (tenantId, endpointId, { status, limit, afterPosition }) =>
      (
        await rowsOf(
          db,
          sql`SELECT * FROM webhook_deliveries WHERE tenant_id = ${tenantId} AND endpoint_id = ${endpointId}
            ${status === undefined ? sql`` : sql`AND status = ${status}`}
            ${afterPosition === undefined ? sql`` : sql`AND global_position > ${afterPosition}`}
            ORDER BY global_position, delivery_id LIMIT ${limit}`,
        )
      ).map(toDelivery),
    redeliver: async (tenantId, endpointId, deliveryId, now, retryUntil) =>
      (
        await rowsOf(
          db,
          sql`UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ${iso(now)}::timestamptz,
              retry_until = ${iso(retryUntil)}::timestamptz, claimed_until = NULL
            WHERE tenant_id = ${tenantId} AND endpoint_id = ${endpointId} AND delivery_id = ${deliveryId}
              AND status = 'dead'
            RETURNING delivery_id`,
        )
      ).length === 1,
    backlog: async () =>
      (
        await rowsOf(
          db,
          sql`SELECT tenant_id, endpoint_id, count(*) FILTER (WHERE status = 'pending') AS pending,
              count(*) FILTER (WHERE status = 'dead') AS dead
            FROM webhook_deliveries WHERE status IN ('pending', 'dead') GROUP BY tenant_id, endpoint_id`,
        )
      ).map((r) => ({
        tenantId: String(r.tenant_id),
        endpointId: String(r.endpoint_id),
        pending: Number(r.pending),
        dead: Number(r.dead),
      })),
  });
