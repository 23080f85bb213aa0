import { drizzle } from 'drizzle-orm/node-postgres';
import { eq } from 'drizzle-orm';
import { jsonb, pgTable, serial, text } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@agentledger/testing';

const notes = pgTable('notes', {
  id: serial('id').primaryKey(),
  body: text('body').notNull(),
  tags: jsonb('tags'),
});

describe('Postgres through drizzle + pg', () => {
  let database: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    database = await createTestDatabase(inject('databaseUrl'), 'smoke');
    pool = new pg.Pool({ connectionString: database.url });
    await pool.query('create table notes (id serial primary key, body text not null, tags jsonb)');
  });

  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  it('round-trips a row in a fresh database', async () => {
    const db = drizzle(pool);
    const [inserted] = await db
      .insert(notes)
      .values({ body: 'hello', tags: { a: [1, 2] } })
      .returning();
    const rows = await db.select().from(notes).where(eq(notes.id, inserted!.id));
    expect(rows).toEqual([{ id: inserted!.id, body: 'hello', tags: { a: [1, 2] } }]);
  });

  it('runs in a database of its own', async () => {
    const { rows } = await pool.query<{ name: string }>('select current_database() as name');
    expect(rows[0]!.name).toBe(database.name);
  });
});
