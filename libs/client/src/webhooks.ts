import { createHmac, timingSafeEqual } from 'node:crypto';

/** `Headers`, or Node's `IncomingHttpHeaders` (lower-case names). */
export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export type VerifyWebhookOptions = Readonly<{
  /** The endpoint's secret as shown once: `whsec_<base64>`. */
  secret: string;
  headers: WebhookHeaders;
  /** The raw body exactly as received (not re-serialised JSON). */
  body: string | Uint8Array;
  /** Default the current time. */
  now?: Date;
  /** How far `webhook-timestamp` may be from now, either way. Default 300 s. */
  toleranceSeconds?: number;
}>;

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

const PREFIX = 'whsec_';

const keyOf = (secret: string): Buffer => {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  if (key.length === 0) throw new WebhookVerificationError('the webhook secret is empty');
  return key;
};

const header = (headers: WebhookHeaders, name: string): string | undefined => {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name];
  return typeof value === 'string' ? value : value?.[0];
};

const sign = (key: Buffer, id: string, timestamp: string, body: string | Uint8Array): Buffer =>
  createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();

/**
 * The `webhook-signature` value for a message (Standard Webhooks, v1: base64 HMAC-SHA256 of
 * `id.timestamp.body` keyed with the secret's bytes). `timestamp` is in Unix seconds.
 */
export const signWebhook = (
  input: Readonly<{ secret: string; id: string; timestamp: number; body: string | Uint8Array }>,
): string =>
  `v1,${sign(keyOf(input.secret), input.id, String(input.timestamp), input.body).toString('base64')}`;

/**
 * Checks a delivery per the Standard Webhooks spec: the three headers are present, the timestamp is
 * within the tolerance, and one of the space-separated `v1,` signatures matches (compared in
 * constant time). Returns the message id (deduplicate on it) and timestamp; throws
 * WebhookVerificationError otherwise.
 */
export const verifyWebhook = (options: VerifyWebhookOptions): Readonly<{ id: string; timestamp: number }> => {
  const id = header(options.headers, 'webhook-id');
  const timestamp = header(options.headers, 'webhook-timestamp');
  const signatures = header(options.headers, 'webhook-signature');
  if (!id || !timestamp || !signatures)
    throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header');
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not Unix seconds');
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - Number(timestamp)) > tolerance)
    throw new WebhookVerificationError('webhook-timestamp is outside the tolerance');
  const expected = sign(keyOf(options.secret), id, timestamp, options.body);
  const matches = signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || value === undefined) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('no matching webhook signature');
  return { id, timestamp: Number(timestamp) };
};
