import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../errors/problem.ts';
import { connectGrpc, type GrpcTestClient } from '../testing/grpc-client.ts';
import { KEYS, startTestGateway, type TestGateway } from '../testing/test-gateway.ts';

type GrpcEvent = { version: string; type: string; data_json: string; stream_id: string };

const failure = async (call: Promise<unknown>): Promise<ServiceError> => {
  try {
    await call;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('the call succeeded');
};

const problemOf = (error: ServiceError): Problem =>
  JSON.parse(String(error.metadata.get('agentledger-problem')[0])) as Problem;

describe('gRPC with a client generated from libs/proto', () => {
  let gateway: TestGateway;
  let client: GrpcTestClient;
  beforeAll(async () => {
    gateway = await startTestGateway();
    client = await connectGrpc(gateway.grpcAddress);
  });
  afterAll(async () => {
    client.close();
    await gateway.close();
  });

  it('needs a key in the authorization metadata', async () => {
    const missing = await failure(client.call('Teams', 'GetTeam', { team_id: 't' }));
    expect(missing.code).toBe(status.UNAUTHENTICATED);
    expect(problemOf(missing)).toMatchObject({ status: 401, code: 'unauthenticated' });
    const unknown = await failure(client.call('Teams', 'GetTeam', { team_id: 't' }, 'nope'));
    expect(unknown.code).toBe(status.UNAUTHENTICATED);
  });

  it('puts and gets a team, tenant-scoped', async () => {
    const spec = { name: 'support', type: 'single' };
    const put = await client.call(
      'Teams',
      'PutTeam',
      { team_id: 'g1', spec_json: JSON.stringify(spec) },
      KEYS.a,
    );
    expect(put).toEqual({ team_id: 'g1', version: '1' });
    const team = (await client.call('Teams', 'GetTeam', { team_id: 'g1' }, KEYS.a)) as {
      spec_json: string;
      version: string;
    };
    expect(JSON.parse(team.spec_json)).toEqual(spec);
    expect(team.version).toBe('1');
    const other = await failure(client.call('Teams', 'GetTeam', { team_id: 'g1' }, KEYS.b));
    expect(other.code).toBe(status.NOT_FOUND);
  });

  it('maps validation failures to INVALID_ARGUMENT naming the field', async () => {
    const badId = await failure(client.call('Teams', 'PutTeam', { team_id: '-x', spec_json: '{}' }, KEYS.a));
    expect(badId.code).toBe(status.INVALID_ARGUMENT);
    expect(problemOf(badId).errors).toEqual([expect.objectContaining({ field: 'team_id' })]);
    const badJson = await failure(client.call('Teams', 'PutTeam', { team_id: 'x', spec_json: '{' }, KEYS.a));
    expect(problemOf(badJson).errors).toEqual([expect.objectContaining({ field: 'spec_json' })]);
    const invalid = await failure(
      client.call('Teams', 'PutTeam', { team_id: 'x', spec_json: '{"a":1}' }, KEYS.a),
    );
    expect(invalid.code).toBe(status.INVALID_ARGUMENT);
    expect(problemOf(invalid).errors).toEqual([expect.objectContaining({ field: 'name' })]);
  });

  it('lists and streams events: past ones, then live ones', async () => {
    const append = (type: string) =>
      gateway.store.append('session-g1', [{ type, data: {} }], {
        tenantId: 'tenant-a',
        expectedVersion: 'any',
      });
    await append('SessionStarted');
    await append('UserMessageReceived');
    const page = (await client.call(
      'Sessions',
      'ListEvents',
      { session_id: 'g1', after: '0', limit: 1 },
      KEYS.a,
    )) as {
      events: GrpcEvent[];
      next_after?: string;
    };
    expect(page.events.map((event) => event.version)).toEqual(['1']);
    expect(page.next_after).toBe('1');
    const hidden = await failure(client.call('Sessions', 'ListEvents', { session_id: 'g1' }, KEYS.b));
    expect(hidden.code).toBe(status.NOT_FOUND);

    const stream = client.stream('StreamEvents', { session_id: 'g1', after: '1' }, KEYS.a);
    const received: GrpcEvent[] = [];
    const third = new Promise<void>((resolve) =>
      stream.on('data', (event: GrpcEvent) => {
        received.push(event);
        if (received.length === 2) resolve();
      }),
    );
    stream.on('error', () => undefined);
    await append('TurnStarted');
    await third;
    expect(received.map((event) => [event.version, event.type])).toEqual([
      ['2', 'UserMessageReceived'],
      ['3', 'TurnStarted'],
    ]);
    stream.cancel();
  });

  it('ends a stream with NOT_FOUND for another tenant', async () => {
    const stream = client.stream('StreamEvents', { session_id: 'g1', after: '0' }, KEYS.b);
    const error = await new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    expect(error.code).toBe(status.NOT_FOUND);
  });
});
