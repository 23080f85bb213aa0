import {
  status as GrpcStatus,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { metricsIn } from '@agentledger/events/observability';

type Handler = (...args: never[]) => void;

/** `agentledger_streams_open{transport}`: SSE and gRPC `StreamEvents` streams open now. */
export const streamsOpen = (registry: Registry) =>
  metricsIn(registry).gauge({
    name: 'agentledger_streams_open',
    help: 'Live event streams open now, by transport (sse, grpc)',
    labelNames: ['transport'] as const,
  });

const codeName = (code: number | undefined): string =>
  (GrpcStatus as unknown as Record<number, string>)[code ?? GrpcStatus.OK] ?? String(code);

/**
 * The handlers of one gRPC service, measured: `agentledger_grpc_request_duration_seconds{method,code}`
 * for every call (a server stream ends when the source ends or the client cancels), and the open
 * server streams in `agentledger_streams_open{transport="grpc"}`.
 */
export const measureGrpc = <H extends Record<string, Handler>>(
  service: string,
  handlers: H,
  registry: Registry,
): H => {
  const latency = metricsIn(registry).histogram({
    name: 'agentledger_grpc_request_duration_seconds',
    help: 'gRPC call latency by method and status code',
    labelNames: ['method', 'code'] as const,
  });
  const open = streamsOpen(registry);
  const measured = Object.entries(handlers).map(([name, handler]) => {
    const method = `${service}/${name}`;
    if (handler.length >= 2) {
      const unary = (
        call: ServerUnaryCall<unknown, unknown>,
        callback: (error: ServiceError | null, value?: unknown) => void,
      ) => {
        const stop = latency.startTimer({ method });
        (handler as unknown as (c: typeof call, cb: typeof callback) => void)(call, (error, value) => {
          stop({ code: codeName(error?.code) });
          callback(error, value);
        });
      };
      return [name, unary];
    }
    const streaming = (call: ServerWritableStream<unknown, unknown>) => {
      const stop = latency.startTimer({ method });
      open.inc({ transport: 'grpc' });
      let ended = false;
      const end = (code: string): void => {
        if (ended) return;
        ended = true;
        open.dec({ transport: 'grpc' });
        stop({ code });
      };
      call.once('finish', () => end('OK'));
      call.once('cancelled', () => end('CANCELLED'));
      call.once('error', (error: ServiceError) => end(codeName(error.code)));
      (handler as unknown as (c: typeof call) => void)(call);
    };
    return [name, streaming];
  });
  return Object.fromEntries(measured) as H;
};
