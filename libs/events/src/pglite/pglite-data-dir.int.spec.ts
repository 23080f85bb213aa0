import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '@agentledger/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirectoryLocked } from '../errors.ts';
import { lockDataDirectory } from './data-dir-lock.ts';
import { createPgliteEventStore } from './pglite-event-store.ts';

const run = promisify(execFile);

describe('pglite: data directory', { timeout: 120_000 }, () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'agentledger-pglite-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('persists events across a reopen and locks the directory while open', async () => {
    const dataDir = join(root, 'data');
    const first = await createPgliteEventStore({ dataDir });
    await first.append('session-p', [{ type: 'Kept', data: { n: 1 } }], {
      tenantId: 't',
      expectedVersion: 0,
    });
    await expect(createPgliteEventStore({ dataDir })).rejects.toBeInstanceOf(DataDirectoryLocked);
    const other = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { lockDataDirectory } from './src/pglite/data-dir-lock.ts';
         try { lockDataDirectory(${JSON.stringify(dataDir)}); console.log('opened'); }
         catch (error) { console.log(error.code); }`,
      ],
      { cwd: new URL('../..', import.meta.url) },
    );
    expect(other.stdout.trim()).toBe('DATA_DIRECTORY_LOCKED');
    await first.close();

    const reopened = await createPgliteEventStore({ dataDir });
    try {
      const events = await reopened.readStream('session-p', { tenantId: 't' });
      expect(events.map((event) => [event.type, event.data])).toEqual([['Kept', { n: 1 }]]);
      expect((await reopened.verifyStream('session-p', { tenantId: 't' })).valid).toBe(true);
    } finally {
      await reopened.close();
    }
  });

  it('wakes subscribers of another store instance on the same PGlite', async () => {
    const owner = await createPgliteEventStore();
    const other = await createPgliteEventStore({ pglite: owner.pglite });
    try {
      const seen: string[] = [];
      const subscription = other.subscribe({
        subscriberId: 'sub-shared',
        pollIntervalMs: 60_000,
        handler: (event) => void seen.push(event.type),
      });
      await subscription.caughtUp;
      await owner.append('session-shared', [{ type: 'Ping', data: {} }], {
        tenantId: 't',
        expectedVersion: 0,
      });
      await eventually('the other instance to be woken', () => (seen.length === 1 ? true : undefined), {
        timeoutMs: 10_000,
      });
      await subscription.stop();
    } finally {
      await other.close();
      await owner.close();
    }
  });

  it('commits appends that arrive together in one transaction (group commit, one call in flight)', async () => {
    const store = await createPgliteEventStore();
    try {
      const streams = Array.from({ length: 10 }, (_, index) => `session-g${index}`);
      const results = await Promise.all(
        streams.map((streamId, index) =>
          store.append(streamId, [{ type: 'Grouped', data: { index } }], {
            tenantId: 't',
            expectedVersion: 'no_stream',
          }),
        ),
      );
      expect(results.map((result) => result.versions)).toEqual(streams.map(() => [1]));
      // The first goes at once; the nine that queued behind it share the next commit.
      const { rows } = await store.pglite.query<{ n: number }>(
        'select count(distinct transaction_id::text)::int as n from events where stream_id = any($1::text[])',
        [streams],
      );
      expect(rows[0]?.n).toBe(2);
      for (const streamId of streams)
        expect((await store.verifyStream(streamId, { tenantId: 't' })).valid).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dataDir = join(root, 'stale');
    await writeFile(`${dataDir}.lock`, '999999999');
    const release = lockDataDirectory(dataDir);
    expect(() => lockDataDirectory(dataDir)).toThrow(DataDirectoryLocked);
    release();
    lockDataDirectory(dataDir)();
  });
});
