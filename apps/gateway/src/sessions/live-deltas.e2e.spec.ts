import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessDeltaChannel, type SessionDelta } from '@agentledger/events';
import { eventually } from '@agentledger/testing';
import type { GrpcEvent } from '../grpc/session-messages.grpc.ts';
import { connectGrpc, type GrpcTestClient } from '../testing/grpc-client.ts';
import { openSse, type SseFrame } from '../testing/sse-client.ts';
import { bearer, KEYS, startSession, startTestGateway, type TestGateway } from '../testing/test-gateway.ts';
import { createLiveDeltas, type LiveDeltas } from '@agentledger/sessions';

const delta = (tenantId: string, sessionId: string, seq: number, text = `piece ${seq} `): SessionDelta => ({
  tenantId,
  sessionId,
  callId: 't1.s1.m1',
  turnId: 't1',
  agent: 'assistant',
  attempt: 0,
  seq,
  kind: 'text',
  text,
});

describe('live streams carry model output as it streams (delta)', () => {
  const channel = createInProcessDeltaChannel();
  let live: LiveDeltas;
  let gateway: TestGateway;
  let grpc: GrpcTestClient;
  beforeAll(async () => {
    live = await createLiveDeltas(channel);
    gateway = await startTestGateway({ liveDeltas: live });
    grpc = await connectGrpc(gateway.grpcAddress);
  });
  afterAll(async () => {
    grpc.close();
    await gateway.close();
    await live.close();
  });

  it('SSE: `event: delta` frames without an id, only of the caller’s own session and tenant', async () => {
    await startSession(gateway, KEYS.a, 'delta-sse');
    await startSession(gateway, KEYS.b, 'delta-sse');
    const stream = await openSse(`${gateway.url}/v1/sessions/delta-sse/stream`, bearer(KEYS.a));
    expect(await stream.next()).toMatchObject({ id: '1', event: 'SessionStarted' });
    await channel.publish([
      delta('tenant-a', 'delta-sse', 0),
      delta('tenant-b', 'delta-sse', 0, 'another tenant'),
      delta('tenant-a', 'other-session', 0, 'another session'),
      delta('tenant-a', 'delta-sse', 1),
    ]);
    const frames: SseFrame[] = [await stream.next(), await stream.next()];
    await channel.publish([delta('tenant-a', 'delta-sse', 2)]);
    frames.push(await stream.next());
    stream.close();
    expect(frames.map((f) => f.event)).toEqual(['delta', 'delta', 'delta']);
    expect(frames.map((f) => f.id)).toEqual([undefined, undefined, undefined]);
    const got = frames.map((f) => JSON.parse(f.data) as SessionDelta);
    expect(got).toEqual([0, 1, 2].map((seq) => delta('tenant-a', 'delta-sse', seq)));
  });

  it('gRPC StreamEvents: a `delta` message between the events, of the caller’s session only', async () => {
    await startSession(gateway, KEYS.a, 'delta-grpc');
    const stream = grpc.stream('StreamEvents', { session_id: 'delta-grpc', after: '0' }, KEYS.a);
    const received: GrpcEvent[] = [];
    stream.on('data', (event: GrpcEvent) => received.push(event));
    stream.on('error', () => undefined);
    await eventually('SessionStarted over gRPC', () => received.length >= 1 || undefined);
    await channel.publish([
      delta('tenant-b', 'delta-grpc', 0, 'another tenant'),
      delta('tenant-a', 'delta-grpc', 0),
    ]);
    await channel.publish([
      {
        tenantId: 'tenant-a',
        sessionId: 'delta-grpc',
        callId: 't1.s1.m1',
        turnId: 't1',
        agent: 'assistant',
        attempt: 0,
        seq: 1,
        kind: 'tool_call_args',
        toolCall: { index: 0, id: 'c1', name: 'calculator', argsDelta: '{"a":' },
      },
    ]);
    await eventually('two deltas over gRPC', () => received.length >= 3 || undefined);
    stream.cancel();
    expect(received[0]?.type).toBe('SessionStarted');
    expect(received.slice(1).map((e) => e.type)).toEqual(['delta', 'delta']);
    expect(received[1]).toMatchObject({
      version: '0',
      tenant_id: 'tenant-a',
      delta: {
        session_id: 'delta-grpc',
        call_id: 't1.s1.m1',
        turn_id: 't1',
        agent: 'assistant',
        seq: 0,
        text: 'piece 0 ',
        piece: 'text',
      },
    });
    expect(received[2]).toMatchObject({
      delta: {
        seq: 1,
        piece: 'tool_call',
        tool_call: { index: 0, id: 'c1', name: 'calculator', args_delta: '{"a":' },
      },
    });
    expect(received.slice(1).map((e) => e.delta?.text ?? '')).not.toContain('another tenant');
  });
});
