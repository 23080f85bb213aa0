/** Keys whose values are credentials: always replaced, whatever the configuration. */
const SECRET_KEYS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'apikey',
  'api_key',
  'apikeyenv',
  'secret',
  'password',
  'token',
  'accesstoken',
  'access_token',
  'signingkey',
  'privatekey',
]);

/** Keys whose values are what users and models said (prompts, answers, tool input and output). */
const CONTENT_KEYS = new Set([
  'content',
  'prompt',
  'messages',
  'systemmessage',
  'arguments',
  'args',
  'result',
  'output',
  'input',
  'text',
  'delta',
  'body',
]);

export const REDACTED = '[Redacted]';

/**
 * A copy of `fields` with credentials (and, unless `content` is on, message content) replaced at
 * any depth, by key. Values under other keys are kept as they are.
 */
export const redactFields = (fields: Record<string, unknown>, content: boolean): Record<string, unknown> => {
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > 8 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1));
    if (value instanceof Error) return value;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      const lower = key.toLowerCase();
      out[key] =
        SECRET_KEYS.has(lower) || (!content && CONTENT_KEYS.has(lower)) ? REDACTED : walk(inner, depth + 1);
    }
    return out;
  };
  return walk(fields, 0) as Record<string, unknown>;
};

/**
 * Replaces every occurrence of the operator's secret values (API keys, model keys) in a written line:
 * the last guard, for a secret that reached a message string or an error.
 */
export const scrubSecrets = (secrets: readonly string[]): ((line: string) => string) => {
  const values = [...new Set(secrets.filter((secret) => secret.length >= 6))].sort(
    (a, b) => b.length - a.length,
  );
  if (values.length === 0) return (line) => line;
  return (line) => values.reduce((out, secret) => out.split(secret).join(REDACTED), line);
};
