import { z } from 'zod';
import type { RetentionPolicies } from '@agentledger/sessions';
import { CLIENT_ID_PATTERN } from '../http/validation.ts';

const days = z.number().nonnegative();

const policySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('keep_forever') }).strict(),
  z
    .object({
      kind: z.literal('expire'),
      closeIdleAfterDays: days.optional(),
      deleteClosedAfterDays: days.optional(),
    })
    .strict(),
]);

/** `AGENTLEDGER_RETENTION`: the operator's retention policies (never a tenant's input). */
export const retentionPoliciesSchema = z
  .object({
    default: policySchema.default({ kind: 'keep_forever' }),
    tenants: z.record(z.string().regex(CLIENT_ID_PATTERN, 'a tenant id'), policySchema).default({}),
    idempotencyKeyHours: z.number().positive().default(24),
  })
  .strict();

/**
 * The policies from `AGENTLEDGER_RETENTION` (JSON text, or the path of a JSON file); unset keeps
 * every session forever and prunes idempotency keys after 24 h. A problem names the field.
 */
export const parseRetentionPolicies = (
  value: string | undefined,
  readFile: (path: string) => string,
): RetentionPolicies | Readonly<{ problem: string }> => {
  let json: unknown = {};
  if (value !== undefined && value.trim() !== '') {
    try {
      json = JSON.parse(value.trim().startsWith('{') ? value : readFile(value.trim()));
    } catch {
      return { problem: 'AGENTLEDGER_RETENTION: neither a JSON object nor a readable JSON file' };
    }
  }
  const parsed = retentionPoliciesSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  return { problem: `AGENTLEDGER_RETENTION.${issue.path.join('.')}: ${issue.message}` };
};
