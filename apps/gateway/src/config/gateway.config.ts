import { z } from 'zod';
import { CLIENT_ID_PATTERN } from '../http/validation.ts';

export type ApiKeySeed = Readonly<{ tenantId: string; key: string }>;

/** `tenantA:keyA,tenantB:keyB` → one seed per pair; a key may itself contain `:`. */
const apiKeySeeds = z
  .string()
  .default('')
  .transform((value, context): ApiKeySeed[] =>
    value
      .split(',')
      .map((pair) => pair.trim())
      .filter((pair) => pair !== '')
      .flatMap((pair) => {
        const separator = pair.indexOf(':');
        const tenantId = pair.slice(0, separator);
        const key = pair.slice(separator + 1);
        if (separator <= 0 || key === '' || !CLIENT_ID_PATTERN.test(tenantId)) {
          context.addIssue({ code: 'custom', message: 'expected tenant:key pairs separated by commas' });
          return [];
        }
        return [{ tenantId, key }];
      }),
  );

const port = z.coerce.number().int().min(0).max(65_535);

/** The gateway's whole configuration, parsed once from the environment by the composition root. */
export const gatewayConfigSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(3000),
  GRPC_PORT: port.default(50051),
  DATABASE_URL: z.url().optional(),
  KAFKA_BROKERS: z.string().optional(),
  AGENTLEDGER_API_KEYS: apiKeySeeds,
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(50),
  RATE_LIMIT_BURST: z.coerce.number().int().positive().default(100),
  STREAM_POLL_INTERVAL_MS: z.coerce.number().int().positive().default(250),
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/** Parses the environment, or throws naming every bad variable (values are never echoed). */
export const parseGatewayConfig = (env: Readonly<Record<string, string | undefined>>): GatewayConfig => {
  const result = gatewayConfigSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`Invalid gateway configuration:\n  ${problems.join('\n  ')}`);
};
