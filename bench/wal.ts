import pg from 'pg';

/** The cluster's WAL insert position (the WAL is shared with anything else the server runs). */
export const walPosition = async (admin: pg.Client): Promise<string> =>
  (await admin.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows[0]?.lsn ?? '0/0';

/**
 * What a measured part wrote to the WAL between two positions: its bytes (every database's), and
 * its commit records in this database (`pg_walinspect`, created in the run's own database, which
 * goes with it): the commits of transactions one of whose records, or one of whose
 * subtransactions' records, touched a relation of this database. A transaction that wrote counts
 * once, whether it held one INSERT or a group commit of many appends. Read-only statements and the
 * transactions in which listeners read a NOTIFY write nothing and do not count
 * (`pg_stat_database.xact_commit` counted both, and reports a backend's counts up to 10 s late).
 * Not counted (undefined): without the extension (Postgres before 15), or when a checkpoint
 * recycled the stretch's first WAL segment before it was read (another database dropped meanwhile).
 */
export const walWritten = async (
  url: string,
  from: string,
  to: string,
): Promise<Readonly<{ wal: number; commits: number | undefined }>> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const wal = Number(
      (await client.query<{ d: string }>('select pg_wal_lsn_diff($1, $2)::text as d', [to, from])).rows[0]?.d,
    );
    const inspect = await client
      .query('create extension if not exists pg_walinspect')
      .then(() => true)
      .catch(() => false);
    if (!inspect) return { wal, commits: undefined };
    const counted = await client
      .query<{ n: string }>(
        `with records as (
         select xid::text as xid, resource_manager, record_type, description, block_ref
           from pg_get_wal_records_info($1::pg_lsn, least($2::pg_lsn, pg_current_wal_flush_lsn()))
       ),
       ours as (
         select distinct xid from records
          where block_ref ~ ('rel [0-9]+/' || (select oid from pg_database where datname = current_database()) || '/')
       )
       select count(*)::text as n from records c
        where c.resource_manager = 'Transaction' and c.record_type = 'COMMIT'
          and (c.xid in (select xid from ours)
               or exists (select 1
                            from unnest(string_to_array(substring(c.description from 'subxacts: ([0-9 ]+)'), ' ')) s(x)
                           where s.x in (select xid from ours)))`,
        [from, to],
      )
      .then(
        ({ rows }) => Number(rows[0]?.n ?? 0),
        (error: unknown) => {
          if (/has already been removed/.test(String(error))) return undefined;
          throw error;
        },
      );
    return { wal, commits: counted };
  } finally {
    await client.end();
  }
};
