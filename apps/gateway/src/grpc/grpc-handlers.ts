import type {
  handleServerStreamingCall,
  handleUnaryCall,
  Metadata,
  ServerWritableStream,
  ServiceError,
} from '@grpc/grpc-js';
import { activeIn, recordFailure, SpanKind, startSpan, traceparentOf } from '@agentledger/telemetry';
import { withTraceparent, type Principal, type Scope } from '../auth/api-key.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { toGrpcError } from '../errors/grpc-status.ts';
import { toProblem } from '../errors/problem.ts';

const authorizationOf = (metadata: Metadata): string | undefined => {
  const [value] = metadata.get('authorization');
  return typeof value === 'string' ? value : undefined;
};

const asServiceError = (error: unknown): ServiceError => {
  const mapped = toGrpcError(toProblem(error));
  return Object.assign(new Error(mapped.details), mapped) as ServiceError;
};

/** A unary rpc: authenticate from metadata, run, map any error to its gRPC status. */
export const unary =
  <Req, Res>(
    authenticator: Authenticator,
    scope: Scope,
    handle: (principal: Principal, request: Req) => Promise<Res>,
  ): handleUnaryCall<Req, Res> =>
  (call, callback) => {
    const run = async (): Promise<void> => {
      const [incoming] = call.metadata.get('traceparent');
      const traceparent = typeof incoming === 'string' ? incoming : undefined;
      // A server span per call, child of the caller's `traceparent` metadata (if valid).
      const span = startSpan(call.getPath(), {
        kind: SpanKind.SERVER,
        ...(traceparent === undefined ? {} : { traceparent }),
        attributes: { 'rpc.system': 'grpc', 'rpc.method': call.getPath() },
      });
      try {
        const principal = await authenticator.authenticate(authorizationOf(call.metadata), scope);
        const traced = withTraceparent(principal, traceparentOf(span) ?? traceparent);
        callback(null, await activeIn(span, () => handle(traced, call.request)));
      } catch (error) {
        recordFailure(span, error);
        callback(asServiceError(error));
      } finally {
        span.end();
      }
    };
    void run();
  };

const writeWithBackpressure = async <Res>(
  call: ServerWritableStream<unknown, Res>,
  message: Res,
): Promise<void> => {
  if (call.write(message)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
  });
};

/** A server-streaming rpc: messages until the source ends or the client cancels. */
export const serverStream =
  <Req, Res>(
    authenticator: Authenticator,
    scope: Scope,
    open: (principal: Principal, request: Req, signal: AbortSignal) => Promise<AsyncIterable<Res>>,
  ): handleServerStreamingCall<Req, Res> =>
  (call) => {
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    const run = async (): Promise<void> => {
      try {
        const principal = await authenticator.authenticate(authorizationOf(call.metadata), scope);
        for await (const message of await open(principal, call.request, abort.signal)) {
          await writeWithBackpressure(call, message);
        }
        call.end();
      } catch (error) {
        call.emit('error', asServiceError(error));
      }
    };
    void run();
  };
