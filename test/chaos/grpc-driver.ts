import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type GrpcObject,
  type ServiceError,
} from '@grpc/grpc-js';
import { load } from '@grpc/proto-loader';
import { PermanentFailure, withRetry, type Driver, type RetryStats } from './clients.ts';

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

type Streaming = (request: unknown, metadata: Metadata) => NodeJS.ReadableStream & { cancel: () => void };
type Callback = (error: ServiceError | null, response: unknown) => void;
type Unary = (request: unknown, metadata: Metadata, options: { deadline: Date }, callback: Callback) => void;
const TRANSIENT = new Set([2, 4, 8, 13, 14]); // UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE

/** The gRPC API through a client generated from the .proto files at run time, retrying transient codes. */
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
      withRetry('grpc send', stats, async () => {
        const answer = await call<{ version: string }>('SendMessage', {
          session_id: sessionId,
          content,
          idempotency_key: key,
        });
        return Number(answer.version);
      }),
    view: (sessionId) =>
      withRetry('grpc view', stats, async () => {
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
      withRetry('grpc approve', stats, async () => {
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
