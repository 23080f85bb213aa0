import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectGrpc, type GrpcTestClient } from '../testing/grpc-client.ts';
import {
  answerModelCall,
  approvalTeamSpec,
  KEYS,
  request,
  startTestGateway,
  type TestGateway,
} from '../testing/test-gateway.ts';

type State = { status: string; pending: { approvals: { toolCallId: string; name: string }[] } };
const calculation = { id: 'call-1', name: 'calculator', arguments: '{"a":2,"b":3,"operator":"*"}' };

describe('tool approvals and waiting for the human, over REST and gRPC', () => {
  let gateway: TestGateway;
  let grpc: GrpcTestClient;
  const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
    request(gateway, 'POST', path, { key: KEYS.a, body, headers });

  /** A session whose turn waits for approval of one calculator call; returns its tool call id. */
  const awaitingApproval = async (sessionId: string): Promise<string> => {
    expect((await post('/v1/sessions', { teamId: 'careful', sessionId })).status).toBe(201);
    const waiting = post(`/v1/sessions/${sessionId}/messages?wait=30`, { content: 'What is 2*3?' });
    await answerModelCall(gateway, 'tenant-a', sessionId, null, [calculation]);
    const settled = await waiting;
    expect(settled.status).toBe(200);
    expect(await settled.json()).toMatchObject({ status: 'awaiting_approval' });
    const state = (await (
      await request(gateway, 'GET', `/v1/sessions/${sessionId}`, { key: KEYS.a })
    ).json()) as State;
    expect(state.pending.approvals).toEqual([expect.objectContaining({ name: 'calculator' })]);
    return state.pending.approvals[0]?.toolCallId ?? '';
  };

  beforeAll(async () => {
    gateway = await startTestGateway();
    grpc = await connectGrpc(gateway.grpcAddress);
    expect(
      (await request(gateway, 'PUT', '/v1/teams/careful', { key: KEYS.a, body: approvalTeamSpec() })).status,
    ).toBe(200);
  });
  afterAll(async () => {
    grpc.close();
    await gateway.close();
  });

  it('approves over REST, idempotently; the same key with the other decision is 422', async () => {
    const toolCallId = await awaitingApproval('approve-rest');
    const headers = { 'idempotency-key': 'approve-1' };
    const approved = await post(
      `/v1/sessions/approve-rest/approvals/${toolCallId}`,
      { approve: true },
      headers,
    );
    expect(approved.status).toBe(202);
    const body = await approved.json();
    expect(
      await (
        await post(`/v1/sessions/approve-rest/approvals/${toolCallId}`, { approve: true }, headers)
      ).json(),
    ).toEqual(body);
    const flipped = await post(
      `/v1/sessions/approve-rest/approvals/${toolCallId}`,
      { approve: false },
      headers,
    );
    expect(flipped.status).toBe(422);
    const contradicting = await post(`/v1/sessions/approve-rest/approvals/${toolCallId}`, { approve: false });
    expect(contradicting.status).toBe(409);
    const events = (await (
      await request(gateway, 'GET', '/v1/sessions/approve-rest/events', { key: KEYS.a })
    ).json()) as {
      events: { type: string; data: { toolCallId?: string } }[];
    };
    expect(events.events.filter((event) => event.type === 'ToolApprovalGranted')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ toolCallId }) }),
    ]);
  });

  it('denies over gRPC; an unknown tool call is NOT_FOUND', async () => {
    const toolCallId = await awaitingApproval('deny-grpc');
    const state = (await grpc.call('Sessions', 'GetSession', { session_id: 'deny-grpc' }, KEYS.a)) as {
      pending: {
        approvals: number;
        approval_requests: { tool_call_id: string; name: string; arguments_json: string }[];
      };
    };
    expect(state.pending).toMatchObject({
      approvals: 1,
      approval_requests: [
        { tool_call_id: toolCallId, name: 'calculator', arguments_json: calculation.arguments },
      ],
    });
    const denied = (await grpc.call(
      'Sessions',
      'Approve',
      { session_id: 'deny-grpc', tool_call_id: toolCallId, approve: false, reason: 'not now' },
      KEYS.a,
    )) as { version: string };
    expect(Number(denied.version)).toBeGreaterThan(3);
    const after = (await (
      await request(gateway, 'GET', '/v1/sessions/deny-grpc', { key: KEYS.a })
    ).json()) as State;
    expect(after.pending.approvals).toEqual([]);
    const unknown = await grpc
      .call('Sessions', 'Approve', { session_id: 'deny-grpc', tool_call_id: 'nope', approve: true }, KEYS.a)
      .then(
        () => undefined,
        (error: ServiceError) => error,
      );
    expect(unknown?.code).toBe(status.NOT_FOUND);
  });

  it('SendMessage with wait_seconds returns the turn outcome over gRPC', async () => {
    await grpc.call('Sessions', 'CreateSession', { team_id: 'careful', session_id: 'wait-grpc' }, KEYS.a);
    const sending = grpc.call(
      'Sessions',
      'SendMessage',
      { session_id: 'wait-grpc', content: 'Hi', wait_seconds: 30 },
      KEYS.a,
    );
    await answerModelCall(gateway, 'tenant-a', 'wait-grpc', 'Hello, human.');
    expect(await sending).toMatchObject({
      completed: true,
      status: 'idle',
      messages: [
        expect.objectContaining({ source: 'user', content: 'Hi' }),
        expect.objectContaining({ source: 'helper', content: 'Hello, human.' }),
      ],
    });
  });
});
