import { parseArgs } from 'node:util';
import { z } from 'zod';
import { generateApiKey, SCOPES, type Scope } from '../auth/api-key.ts';
import type { ApiKeyStore } from '../auth/api-key-store.port.ts';
import { CLIENT_ID_PATTERN } from '../http/validation.ts';

export type CliOutput = Readonly<{ out: (line: string) => void; err: (line: string) => void }>;

const USAGE = `usage: agentledger keys create --tenant <tenantId> [--scopes ${SCOPES.join(',')}] [--data-dir <dir>]

Creates an API key for the tenant and prints it once; only its SHA-256 hash is stored: in Postgres
(DATABASE_URL), or with --data-dir in the embedded product's data directory (stop npm start first).`;

export type KeyStoreTarget = Readonly<{ kind: 'postgres' }> | Readonly<{ kind: 'pglite'; dataDir: string }>;
export type KeyStoreOpener = (
  target: KeyStoreTarget,
) => Promise<Readonly<{ store: ApiKeyStore; close: () => Promise<void> }>>;

const argsSchema = z.object({
  tenant: z
    .string()
    .regex(CLIENT_ID_PATTERN, { message: 'a tenant id: ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' }),
  scopes: z
    .string()
    .optional()
    .transform((value) => (value === undefined ? [...SCOPES] : value.split(',').map((scope) => scope.trim())))
    .pipe(z.array(z.enum(SCOPES)).min(1)),
  'data-dir': z.string().min(1).optional(),
});

const parseCommandLine = (argv: readonly string[]) => {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        tenant: { type: 'string' },
        scopes: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean' },
      },
      allowPositionals: true,
    });
  } catch (error) {
    return error as Error;
  }
};

/**
 * `agentledger keys create --tenant T [--scopes …]`: prints the new key on stdout (nothing else
 * there, so it can be captured) and what it is for on stderr. Exit code 0, or 2 for bad usage.
 */
export const runKeysCommand = async (
  argv: readonly string[],
  keys: KeyStoreOpener,
  io: CliOutput,
  now: () => Date = () => new Date(),
): Promise<number> => {
  const parsed = parseCommandLine(argv);
  if (parsed instanceof Error) {
    io.err(`${parsed.message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help === true) {
    io.out(USAGE);
    return 0;
  }
  if (parsed.positionals.join(' ') !== 'keys create') {
    io.err(USAGE);
    return 2;
  }
  const options = argsSchema.safeParse(parsed.values);
  if (!options.success) {
    io.err(
      `${options.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`).join('\n')}\n${USAGE}`,
    );
    return 2;
  }
  const { key, record } = generateApiKey(options.data.tenant, now(), options.data.scopes as Scope[]);
  const dataDir = options.data['data-dir'];
  const { store, close } = await keys(
    dataDir === undefined ? { kind: 'postgres' } : { kind: 'pglite', dataDir },
  );
  try {
    await store.add(record);
    if ((await store.findByHash(record.keyHash))?.keyId !== record.keyId)
      throw new Error('the key was not stored');
  } finally {
    await close();
  }
  io.err(
    `API key ${record.keyId} for tenant ${record.tenantId} (scopes ${record.scopes.join(', ')}). Shown once: keep it now.`,
  );
  io.out(key);
  return 0;
};
