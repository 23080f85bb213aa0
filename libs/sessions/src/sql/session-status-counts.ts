import { sql } from 'drizzle-orm';
import type { AnyPgDatabase } from '@agentledger/events/postgres';

/**
 * Sessions per status over all tenants, for the operator's `agentledger_sessions` gauge only: no
 * tenant's answer depends on it, and it carries no tenant or session id.
 */
export const countSessionsByStatus = async (
  db: Pick<AnyPgDatabase, 'execute'>,
): Promise<Readonly<Record<string, number>>> => {
  const result = (await db.execute(
    sql`select status, count(*)::int as n from sessions group by status`,
  )) as unknown as { rows: { status: string; n: number }[] };
  return Object.fromEntries(result.rows.map((row) => [row.status, Number(row.n)]));
};
