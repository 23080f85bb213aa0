import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeysCommand, type KeyStoreOpener } from '../cli/keys-command.ts';
import { hashApiKey } from './api-key.ts';
import { openPgliteApiKeys } from './pglite-api-keys.ts';

describe('keys create --data-dir: the embedded product keeps its keys in PGlite', () => {
  let dataDir: string;
  const open: KeyStoreOpener = async (target) => {
    if (target.kind !== 'pglite') throw new Error('expected the PGlite target');
    return openPgliteApiKeys(target.dataDir);
  };
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'agentledger-keys-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stores the key there, usable on the next open; refuses while the data directory is in use', async () => {
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: () => undefined };
    expect(await runKeysCommand(['keys', 'create', '--tenant', 'dev', '--data-dir', dataDir], open, io)).toBe(
      0,
    );
    const reopened = await openPgliteApiKeys(dataDir);
    try {
      expect(await reopened.store.findByHash(hashApiKey(out[0] ?? ''))).toMatchObject({ tenantId: 'dev' });
      await expect(
        runKeysCommand(['keys', 'create', '--tenant', 'dev', '--data-dir', dataDir], open, io),
      ).rejects.toMatchObject({
        code: 'DATA_DIRECTORY_LOCKED',
      });
    } finally {
      await reopened.close();
    }
  }, 60_000);
});
