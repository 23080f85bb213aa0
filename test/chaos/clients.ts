import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type GrpcObject,
  type ServiceError,
} from '@grpc/grpc-js';
import { load } from '@grpc/proto-loader';
import { createSseParser } from '@agentledger/client';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

// As a business system loads them: the .proto files of @agentledger/proto (the gateway's own loader
// options: snake_case fields, int64 as strings).
const PROTO_ROOT = dirname(createRequire(import.meta.url).resolve('@agentledger/proto/package.json'));
const PROTO_FILES = ['agentledger/v1/sessions.proto'];
const PROTO_LOADER_OPTIONS = {
  includeDirs: [PROTO_ROOT],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export type SessionView = Readonly<{ status: string; version: number; approvals: readonly string[] }>;

/** What a business system does with a session, over one protocol; every call retries until `deadline`. */
export type Driver = Readonly<{
  protocol: 'rest' | 'grpc';
  createSession: (sessionId: string, teamId: string) => Promise<void>;
  /** Resolves once the gateway accepted the message (202 / OK), with the version it was stored at. */
  send: (sessionId: string, content: string, idempotencyKey: string) => Promise<number>;
  view: (sessionId: string) => Promise<SessionView>;
  approve: (sessionId: string, toolCallId: string) => Promise<void>;
  /** One live stream of the session's events after `after` (SSE / StreamEvents); no retry. */
  follow: (sessionId: string, after: number, onVersion: (version: number) => void) => Subscription;
  close: () => void;
}>;

/** `ended` settles when the stream ends or breaks (a cut connection, a gateway restart). */
export type Subscription = Readonly<{ cancel: () => void; ended: Promise<unknown> }>;

/** A failure retrying cannot fix (4xx other than 408/429): the session fails with this reason. */
export class PermanentFailure extends Error {}

export type RetryStats = { retries: number };

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries transient failures with the same request (and so the same idempotency key). */
const withRetry = async <T>(
  what: string,
  stats: RetryStats,
  attempt: () => Promise<T>,
  deadlineMs = 180_000,
): Promise<T> => {
  const deadline = Date.now() + deadlineMs;
  for (let tries = 0; ; tries += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof PermanentFailure || Date.now() > deadline)
        throw new PermanentFailure(`${what}: ${(error as Error).message}`);
      stats.retries += 1;
      await pause(Math.min(2_000, 100 * 2 ** Math.min(tries, 5)) * (0.5 + Math.random()));
    }
  }
};

export const restDriver = (baseUrl: string, apiKey: string, stats: RetryStats): Driver => {
  const call = async (method: string, path: string, body?: unknown, key?: string): Promise<unknown> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(key === undefined ? {} : { 'idempotency-key': key }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    if (response.status >= 500 || response.status === 429 || response.status === 408)
      throw new Error(`${method} ${path}: ${response.status}`);
    if (response.status >= 400)
      throw new PermanentFailure(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
    return text === '' ? {} : JSON.parse(text);
  };
  return {
    protocol: 'rest',
    createSession: (sessionId, teamId) =>
      withRetry(
        'create',
        stats,
        async () => void (await call('POST', '/v1/sessions', { teamId, sessionId })),
      ),
    send: (sessionId, content, key) =>
      withRetry('send', stats, async () => {
        const answer = (await call('POST', `/v1/sessions/${sessionId}/messages`, { content }, key)) as {
          version: number;
        };
        return Number(answer.version);
      }),
    view: (sessionId) =>
      withRetry('view', stats, async () => {
        const state = (await call('GET', `/v1/sessions/${sessionId}`)) as {
          status: string;
          version: number;
          pending: { approvals: { toolCallId: string }[] };
        };
        return {
          status: state.status,
          version: Number(state.version),
          approvals: state.pending.approvals.map((a) => a.toolCallId),
        };
      }),
    approve: (sessionId, toolCallId) =>
      withRetry('approve', stats, async () => {
        await call(
          'POST',
          `/v1/sessions/${sessionId}/approvals/${toolCallId}`,
          { approve: true },
          `${sessionId}:approve:${toolCallId}`,
        ).catch((error: unknown) => {
          // A retried approval whose first answer was lost finds the call decided already.
          if (error instanceof PermanentFailure && / 409 /.test(error.message)) return;
          throw error;
        });
      }),
    follow: (sessionId, after, onVersion) => {
      const controller = new AbortController();
      const ended = (async () => {
        const response = await fetch(`${baseUrl}/v1/sessions/${sessionId}/stream?after=${after}`, {
          headers: { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (!response.ok || response.body === null) throw new Error(`stream: ${response.status}`);
        const parser = createSseParser();
        const decoder = new TextDecoder();
        for await (const chunk of response.body)
          for (const frame of parser.push(decoder.decode(chunk as Uint8Array, { stream: true })))
            if (frame.id !== undefined) onVersion(Number(frame.id)); // deltas carry no id
      })();
      return { cancel: () => controller.abort(), ended };
    },
    close: () => undefined,
  };
};

type Streaming = (request: unknown, metadata: Metadata) => NodeJS.ReadableStream & { cancel: () => void };
type Callback = (error: ServiceError | null, response: unknown) => void;
type Unary = (request: unknown, metadata: Metadata, options: { deadline: Date }, callback: Callback) => void;
const TRANSIENT = new Set([2, 4, 8, 13, 14]); // UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE

export const grpcDriver = async (address: string, apiKey: string, stats: RetryStats): Promise<Driver> => {
  const definition = await load([...PROTO_FILES], PROTO_LOADER_OPTIONS);
  const v1 = (loadPackageDefinition(definition)['agentledger'] as GrpcObject)['v1'] as GrpcObject;
  const Sessions = v1['Sessions'] as unknown as new (
    address: string,
    creds: ReturnType<typeof credentials.createInsecure>,
  ) => Client;
  const client = new Sessions(address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  const call = <T>(method: string, request: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, Unary>)[method]!;
      fn.call(client, request, metadata, { deadline: new Date(Date.now() + 15_000) }, (error, response) => {
        if (error === null) return resolve(response as T);
        reject(
          TRANSIENT.has(error.code)
            ? error
            : new PermanentFailure(`${method}: ${error.code} ${error.details}`),
        );
      });
    });
  return {
    protocol: 'grpc',
    createSession: (sessionId, teamId) =>
      withRetry(
        'create',
        stats,
        async () => void (await call('CreateSession', { team_id: teamId, session_id: sessionId })),
      ),
    send: (sessionId, content, key) =>
      withRetry('send', stats, async () => {
        const answer = await call<{ version: string }>('SendMessage', {
          session_id: sessionId,
          content,
          idempotency_key: key,
        });
        return Number(answer.version);
      }),
    view: (sessionId) =>
      withRetry('view', stats, async () => {
        const state = await call<{
          status: string;
          version: string;
          pending?: { approval_requests: { tool_call_id: string }[] };
        }>('GetSession', { session_id: sessionId });
        return {
          status: state.status,
          version: Number(state.version),
          approvals: (state.pending?.approval_requests ?? []).map((a) => a.tool_call_id),
        };
      }),
    approve: (sessionId, toolCallId) =>
      withRetry('approve', stats, async () => {
        await call('Approve', {
          session_id: sessionId,
          tool_call_id: toolCallId,
          approve: true,
          idempotency_key: `${sessionId}:approve:${toolCallId}`,
        }).catch((error: unknown) => {
          if (error instanceof PermanentFailure && /: 9 /.test(error.message)) return; // FAILED_PRECONDITION: decided already
          throw error;
        });
      }),
    follow: (sessionId, after, onVersion) => {
      const stream = (client as unknown as Record<string, Streaming>)['StreamEvents']!.call(
        client,
        { session_id: sessionId, after: String(after) },
        metadata,
      );
      const ended = new Promise((resolve, reject) => {
        stream.on('data', (event: { version?: string }) => {
          if (event.version !== undefined && event.version !== '0') onVersion(Number(event.version));
        });
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      return { cancel: () => stream.cancel(), ended };
    },
    close: () => client.close(),
  };
};
