import { z } from 'zod';
import { defineTool, type Tool } from './tool.ts';

export type HttpRequestToolOptions = Readonly<{
  /** Hosts (`host` or `host:port`) the tool may call; anything else is refused before any I/O. */
  allowedHosts: readonly string[];
  /** Default true: the idempotency key header lets the business system dedupe a retry. */
  idempotent?: boolean;
  requiresApproval?: boolean;
  timeoutMs?: number;
  /** Response bodies are cut to this many characters before the model sees them. */
  maxResponseChars?: number;
  fetch?: typeof fetch;
}>;

/** The header that carries `<sessionId>:<toolCallId>` to business systems. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/**
 * `http_request`: calls business systems on an allow-list of hosts and sends the call's
 * idempotency key as a header. Answers `{status, body}` as JSON; refusals are errors the model sees.
 */
export const createHttpRequestTool = (options: HttpRequestToolOptions): Tool => {
  const allowed = new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  const doFetch = options.fetch ?? fetch;
  const maxChars = options.maxResponseChars ?? 20_000;
  return defineTool({
    name: 'http_request',
    description: `Send an HTTP request to an allowed business system (${[...allowed].join(', ') || 'none'}).`,
    parameters: z.object({
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
      url: z.url(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.string().optional().describe('request body, usually JSON text'),
    }),
    idempotent: options.idempotent ?? true,
    requiresApproval: options.requiresApproval ?? false,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    execute: async ({ method, url, headers, body }, ctx) => {
      const target = new URL(url);
      if (!['http:', 'https:'].includes(target.protocol))
        throw new Error(`protocol ${target.protocol} is not allowed`);
      if (!allowed.has(target.host.toLowerCase()) && !allowed.has(target.hostname.toLowerCase()))
        throw new Error(`host ${target.host} is not on the allow-list`);
      const response = await doFetch(target, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
          [IDEMPOTENCY_HEADER]: ctx.idempotencyKey,
        },
        ...(body === undefined || method === 'GET' ? {} : { body }),
        signal: ctx.signal,
        redirect: 'manual',
      });
      const text = await response.text();
      return JSON.stringify({ status: response.status, body: text.slice(0, maxChars) });
    },
  });
};
