import { createHash } from 'node:crypto';

/**
 * Ids derived from an idempotency key, so a retried request names the same session or message
 * (style: keys derived from the work, never a fresh id at the retry site).
 */
export const derivedId = (prefix: string, ...parts: readonly string[]): string =>
  `${prefix}-${createHash('sha256').update(parts.join('\n'), 'utf8').digest('hex').slice(0, 32)}`;
