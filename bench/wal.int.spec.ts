import { createTestDatabase, type TestDatabase } from '@agentledger/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { walPosition, walWritten } from './wal.ts';

describe('bench: what a measured part wrote to the WAL', () => {
  let database: TestDatabase;
  let other: TestDatabase;
  const clients: pg.Client[] = [];
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'bench_wal');
    other = await createTestDatabase(inject('databaseUrl'), 'bench_wal_other');
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end()));
    await database?.drop();
    await other?.drop();
  });

  it('counts the transactions that wrote to this database, once each, and no read, NOTIFY read or other database', async () => {
    const writer = await connect();
    await writer.query('create table t (n integer)');
    const elsewhere = new pg.Client({ connectionString: other.url });
    await elsewhere.connect();
    clients.push(elsewhere);
    await elsewhere.query('create table t (n integer)');
    // Two listening sessions: each reads every notification inside a transaction of its own, which
    // pg_stat_database counts as a commit; the WAL has no record of it.
    for (const listener of [await connect(), await connect()]) await listener.query('listen bench_wal');
    const admin = await connect();
    const measure = async () => {
      const before = await walPosition(admin);
      for (let n = 0; n < 5; n += 1) await writer.query('insert into t values ($1)', [n]);
      await writer.query('begin');
      await writer.query('insert into t values (10)');
      await writer.query('insert into t values (11)');
      await writer.query('commit');
      // Two appends' worth of subtransactions in one transaction, as a group commit runs them.
      await writer.query(
        'do $$ begin begin insert into t values (20); exception when others then null; end; ' +
          'begin insert into t values (21); exception when others then null; end; end $$',
      );
      // Another database's commits land in the same stretch of WAL, and are not this one's.
      await elsewhere.query('insert into t values (1)');
      for (let n = 0; n < 20; n += 1) await writer.query('select count(*) from t');
      for (let n = 0; n < 10; n += 1) await writer.query("select pg_notify('bench_wal', 'x')");
      return walWritten(database.url, before, await walPosition(admin));
    };
    // Other suites' DROP DATABASE checkpoints may recycle the stretch's WAL before it is read
    // (commits then undefined): measured again, at most three times.
    let written = await measure();
    for (let attempt = 1; written.commits === undefined && attempt < 3; attempt += 1)
      written = await measure();
    // Five single inserts, one transaction of two, one of two subtransactions; the NOTIFYs, the
    // reads and the other database count nothing.
    expect(written.commits).toBe(7);
    expect(written.wal).toBeGreaterThan(0);
  });
});
