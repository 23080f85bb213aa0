import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65_535);

/** `npm start`'s configuration, parsed once from the environment by the composition root. */
export const standaloneConfigSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(3000),
  GRPC_PORT: port.default(50051),
  /** PGlite data and the development API key live here (kept between starts). */
  DATA_DIR: z.string().min(1).default('.data'),
  /** Team specs (`<teamId>.json`) put for the development tenant at start. */
  EXAMPLES_DIR: z.string().min(1).default('examples'),
  /** `tenant:key` pairs seeded at start, beside the development key. */
  AGENTLEDGER_API_KEYS: z.string().default(''),
  DEV_TENANT: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/)
    .default('dev'),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(50),
  RATE_LIMIT_BURST: z.coerce.number().int().positive().default(100),
  MAX_CONCURRENT_SESSIONS: z.coerce.number().int().positive().default(32),
  MAX_MODEL_CALLS: z.coerce.number().int().positive().default(8),
  MAX_TOOL_CALLS: z.coerce.number().int().positive().default(16),
  /** Hosts the built-in `http_request` tool may call, comma-separated. */
  HTTP_TOOL_ALLOWED_HOSTS: z.string().default(''),
});

export type StandaloneConfig = z.output<typeof standaloneConfigSchema>;

export const parseStandaloneConfig = (
  env: Readonly<Record<string, string | undefined>>,
): StandaloneConfig => {
  const result = standaloneConfigSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
};

/** `tenantA:keyA,tenantB:keyB` → pairs (a key may itself contain `:`). */
export const parseKeySeeds = (value: string): { tenantId: string; key: string }[] =>
  value
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf(':');
      if (at <= 0 || at === pair.length - 1)
        throw new Error('AGENTLEDGER_API_KEYS: expected tenant:key pairs');
      return { tenantId: pair.slice(0, at), key: pair.slice(at + 1) };
    });
