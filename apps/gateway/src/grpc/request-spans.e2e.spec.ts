import { context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@agentledger/testing';
import { connectGrpc, type GrpcTestClient } from '../testing/grpc-client.ts';
import { KEYS, request, startSession, startTestGateway, type TestGateway } from '../testing/test-gateway.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER = 'b7ad6b7169203331';

// The gateway's request spans (REST and gRPC) with the SDK registered in this process, exported
// to memory: each is a child of the caller's traceparent, and the events a request appends carry
// the traceparent of its append span.
describe('request spans: REST and gRPC', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  let gateway: TestGateway;
  let client: GrpcTestClient;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    gateway = await startTestGateway();
    client = await connectGrpc(gateway.grpcAddress);
  });
  afterAll(async () => {
    client?.close();
    await gateway?.close();
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  const appendedTraceparent = async (sessionId: string): Promise<string | undefined> => {
    const streamId = await gateway.sessions.streamIdOf('tenant-a', sessionId);
    const events = await gateway.store.readStream(streamId, { tenantId: 'tenant-a' });
    return events.find((e) => e.type === 'UserMessageReceived')?.metadata.traceparent;
  };

  /** The server span named `name` under the caller's span (ended with the response), and its append span. */
  const spansOf = async (name: string, caller: string) => {
    const server = await eventually(`the ${name} span to end`, () =>
      exporter.getFinishedSpans().find((s) => s.name === name && s.parentSpanContext?.spanId === caller),
    );
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.spanContext().traceId).toBe(TRACE);
    const append = exporter
      .getFinishedSpans()
      .find(
        (s) => s.name === 'session.append' && s.parentSpanContext?.spanId === server.spanContext().spanId,
      );
    expect(append?.attributes['agentledger.command']).toBe('PostUserMessage');
    return { server, append: append! };
  };

  it('REST: POST …/messages is a server span, its append span names the stored events', async () => {
    await startSession(gateway, KEYS.a, 'traced-rest');
    const posted = await request(gateway, 'POST', '/v1/sessions/traced-rest/messages', {
      key: KEYS.a,
      body: { content: 'hello' },
      headers: { traceparent: `00-${TRACE}-${CALLER}-01` },
    });
    expect(posted.status).toBe(202);
    const { server, append } = await spansOf('POST /v1/sessions/:id/messages', CALLER);
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/sessions/:id/messages',
      'http.response.status_code': 202,
    });
    expect(await appendedTraceparent('traced-rest')).toBe(`00-${TRACE}-${append.spanContext().spanId}-01`);
  });

  it('gRPC: SendMessage is a server span under the traceparent metadata entry', async () => {
    await startSession(gateway, KEYS.a, 'traced-grpc');
    const caller = '00f067aa0ba902b7';
    await client.call('Sessions', 'SendMessage', { session_id: 'traced-grpc', content: 'hi' }, KEYS.a, {
      traceparent: `00-${TRACE}-${caller}-01`,
    });
    const { server, append } = await spansOf('/agentledger.v1.Sessions/SendMessage', caller);
    expect(server.attributes).toMatchObject({ 'rpc.system': 'grpc' });
    expect(await appendedTraceparent('traced-grpc')).toBe(`00-${TRACE}-${append.spanContext().spanId}-01`);
  });
});
