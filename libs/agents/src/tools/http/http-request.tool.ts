import { z } from 'zod';
import { defineTool, type Tool } from '../tool.ts';
import type { HttpTransport } from './http-transport.ts';

export type HttpRequestToolOptions = Readonly<{
  /**
   * `host` (default port of the scheme only) or `host:port` entries the tool may call: host *and*
   * port must match; anything else is refused before any I/O.
   */
  allowedHosts: readonly string[];
  /** The network adapter (`createNodeHttpTransport`): address checks, pinning, streamed size cap. */
  transport: HttpTransport;
  /** Methods whose calls may run again after a crash; default GET, HEAD, PUT, DELETE. */
  idempotentMethods?: readonly HttpMethod[];
  requiresApproval?: boolean;
  timeoutMs?: number;
  /** The response body is read (streamed) up to this many bytes; default 20 000. */
  maxResponseBytes?: number;
}>;

/** The header that carries `<sessionId>:<toolCallId>` to business systems. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof METHODS)[number];

/** Headers only the runtime sets: credentials, routing, framing and the idempotency key. */
const RESERVED_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  IDEMPOTENCY_HEADER.toLowerCase(),
  'content-length',
  'transfer-encoding',
  'connection',
]);

/** An allow-list entry: `port` undefined means the scheme's default port only. */
type Endpoint = Readonly<{ hostname: string; port: string | undefined }>;

const endpointOf = (entry: string): Endpoint => {
  const trimmed = entry.trim();
  return { hostname: new URL(`http://${trimmed}`).hostname, port: /:(\d+)$/.exec(trimmed)?.[1] };
};

const effectivePort = (url: URL): string => url.port || (url.protocol === 'https:' ? '443' : '80');

/** Host *and* port: `crm` allows crm on 80 (http) and 443 (https) only; `crm:8443` only 8443. */
const matches = (entry: Endpoint, target: URL): boolean =>
  entry.hostname === target.hostname &&
  (entry.port === undefined ? target.port === '' : Number(entry.port) === Number(effectivePort(target)));

const parameters = z.object({
  method: z.enum(METHODS).default('GET'),
  url: z.url(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional().describe('request body, usually JSON text'),
});

/**
 * `http_request`: calls business systems on an allow-list of `host[:port]` entries and sends the
 * call's idempotency key as a header. Answers `{status, body, truncated?}` as JSON; refusals are
 * errors the model sees. Only calls with an idempotent method are retried after a crash.
 */
export const createHttpRequestTool = (options: HttpRequestToolOptions): Tool => {
  const allowed = options.allowedHosts.filter((h) => h.trim() !== '').map(endpointOf);
  const idempotentMethods = new Set<string>(options.idempotentMethods ?? ['GET', 'HEAD', 'PUT', 'DELETE']);
  const maxResponseBytes = options.maxResponseBytes ?? 20_000;
  return defineTool({
    name: 'http_request',
    description: `Send an HTTP request to an allowed business system (${options.allowedHosts.join(', ') || 'none'}).`,
    parameters,
    idempotent: false,
    idempotentFor: ({ method }) => idempotentMethods.has(method),
    requiresApproval: options.requiresApproval ?? false,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    execute: async ({ method, url, headers = {}, body }, ctx) => {
      const target = new URL(url);
      if (!['http:', 'https:'].includes(target.protocol))
        throw new Error(`protocol ${target.protocol} is not allowed`);
      if (target.username !== '' || target.password !== '')
        throw new Error('credentials in the URL are not allowed');
      if (!allowed.some((entry) => matches(entry, target)))
        throw new Error(`host ${target.host} is not on the allow-list`);
      const reserved = Object.keys(headers).filter((name) => RESERVED_HEADERS.has(name.toLowerCase()));
      if (reserved.length > 0)
        throw new Error(`header ${reserved.join(', ')} is set by the runtime, not by the model`);
      const sendsBody = body !== undefined && method !== 'GET' && method !== 'HEAD';
      const response = await options.transport({
        url: target,
        method,
        headers: {
          ...(sendsBody ? { 'content-type': 'application/json' } : {}),
          ...headers,
          [IDEMPOTENCY_HEADER]: ctx.idempotencyKey,
        },
        ...(sendsBody ? { body } : {}),
        signal: ctx.signal,
        maxResponseBytes,
      });
      return JSON.stringify({
        status: response.status,
        body: response.body,
        ...(response.truncated ? { truncated: true } : {}),
      });
    },
  });
};
