import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../errors/problem.ts';
import { connectGrpc, type GrpcTestClient } from '../testing/grpc-client.ts';
import { bearer, KEYS, singleTeamSpec, startTestGateway, type TestGateway } from '../testing/test-gateway.ts';

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
    const spec = singleTeamSpec('g1');
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
    expect(JSON.parse(team.spec_json)).toMatchObject({ name: 'g1', type: 'single' });
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
      client.call(
        'Teams',
        'PutTeam',
        { team_id: 'x', spec_json: JSON.stringify({ ...singleTeamSpec(), name: 7 }) },
        KEYS.a,
      ),
    );
    expect(invalid.code).toBe(status.INVALID_ARGUMENT);
    expect(problemOf(invalid).errors).toEqual([expect.objectContaining({ field: 'name' })]);
  });

  it('refuses a team whose model names its own base URL and key variable, naming both fields', async () => {
    const model = { model: 'gpt-4o-mini', baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'DATABASE_URL' };
    const spec = { ...singleTeamSpec(), agents: [{ name: 'helper', model }] };
    const refused = await failure(
      client.call('Teams', 'PutTeam', { team_id: 'exfil', spec_json: JSON.stringify(spec) }, KEYS.a),
    );
    expect(refused.code).toBe(status.INVALID_ARGUMENT);
    expect(problemOf(refused)).toMatchObject({ status: 422 });
    expect((problemOf(refused).errors ?? []).map((e) => e.field)).toEqual([
      'agents.0.model.baseUrl',
      'agents.0.model.apiKeyEnv',
    ]);
  });

  it('creates a session idempotently, sends a message, reads the state, cancels', async () => {
    const created = await client.call(
      'Sessions',
      'CreateSession',
      { team_id: 'g1', session_id: 'g1' },
      KEYS.a,
    );
    expect(created).toEqual({ session_id: 'g1', status: 'idle', version: '1' });
    expect(
      await client.call('Sessions', 'CreateSession', { team_id: 'g1', session_id: 'g1' }, KEYS.a),
    ).toEqual(created);
    const labelled = {
      team_id: 'g1',
      session_id: 'g1-meta',
      metadata_json: JSON.stringify({ customer: 'c-7' }),
    };
    expect(await client.call('Sessions', 'CreateSession', labelled, KEYS.a)).toMatchObject({
      session_id: 'g1-meta',
    });
    const badLabels = await failure(
      client.call(
        'Sessions',
        'CreateSession',
        { ...labelled, session_id: 'g1-bad', metadata_json: '[1]' },
        KEYS.a,
      ),
    );
    expect(badLabels.code).toBe(status.INVALID_ARGUMENT);
    const unknownTeam = await failure(client.call('Sessions', 'CreateSession', { team_id: 'nope' }, KEYS.a));
    expect(unknownTeam.code).toBe(status.NOT_FOUND);
    const message = { session_id: 'g1', content: 'Hello', idempotency_key: 'k-1' };
    const sent = await client.call('Sessions', 'SendMessage', message, KEYS.a);
    expect(sent).toMatchObject({ version: '2', completed: false });
    expect(await client.call('Sessions', 'SendMessage', message, KEYS.a)).toEqual(sent);
    const reused = await failure(
      client.call('Sessions', 'SendMessage', { ...message, content: 'Other' }, KEYS.a),
    );
    expect(reused.code).toBe(status.FAILED_PRECONDITION);
    const state = (await client.call('Sessions', 'GetSession', { session_id: 'g1' }, KEYS.a)) as {
      status: string;
      messages: unknown[];
    };
    expect(state.status).toBe('running');
    expect(state.messages).toEqual([
      expect.objectContaining({ content: 'Hello', source: 'user', version: '2' }),
    ]);
    const atOne = await client.call('Sessions', 'GetSession', { session_id: 'g1', at_version: '1' }, KEYS.a);
    expect(atOne).toMatchObject({ version: '1', status: 'idle', messages: [] });
    const hidden = await failure(client.call('Sessions', 'GetSession', { session_id: 'g1' }, KEYS.b));
    expect(hidden.code).toBe(status.NOT_FOUND);
    const cancelled = (await client.call('Sessions', 'Cancel', { session_id: 'g1' }, KEYS.a)) as {
      version: string;
    };
    expect(Number(cancelled.version)).toBeGreaterThan(2);
    const approval = await failure(
      client.call('Sessions', 'Approve', { session_id: 'g1', tool_call_id: 'nope', approve: true }, KEYS.a),
    );
    expect(approval.code).toBe(status.NOT_FOUND);
  });

  it('lists and streams events: past ones, then live ones', async () => {
    await client.call('Sessions', 'CreateSession', { team_id: 'g1', session_id: 'g2' }, KEYS.a);
    await client.call('Sessions', 'SendMessage', { session_id: 'g2', content: 'Hi' }, KEYS.a);
    const page = (await client.call(
      'Sessions',
      'ListEvents',
      { session_id: 'g2', after: '0', limit: 1 },
      KEYS.a,
    )) as {
      events: GrpcEvent[];
      next_after?: string;
    };
    expect(page.events.map((event) => event.version)).toEqual(['1']);
    expect(page.next_after).toBe('1');
    const hidden = await failure(client.call('Sessions', 'ListEvents', { session_id: 'g2' }, KEYS.b));
    expect(hidden.code).toBe(status.NOT_FOUND);

    const stream = client.stream('StreamEvents', { session_id: 'g2', after: '1' }, KEYS.a);
    const received: GrpcEvent[] = [];
    const closed = new Promise<void>((resolve) =>
      stream.on('data', (event: GrpcEvent) => {
        received.push(event);
        if (event.type === 'SessionClosed') resolve();
      }),
    );
    stream.on('error', () => undefined);
    await fetch(`${gateway.url}/v1/sessions/g2/close`, { method: 'POST', headers: bearer(KEYS.a) });
    await closed;
    expect(received.map((event) => Number(event.version))).toEqual(
      Array.from({ length: received.length }, (_, i) => i + 2),
    );
    expect(received[0]?.type).toBe('UserMessageReceived');
    stream.cancel();
  });

  it('resumes StreamEvents after a cancel with after = the last version: no gap, no repeat', async () => {
    await client.call('Sessions', 'CreateSession', { team_id: 'g1', session_id: 'g3' }, KEYS.a);
    const collect = (after: string, until: (event: GrpcEvent) => boolean) => {
      const stream = client.stream('StreamEvents', { session_id: 'g3', after }, KEYS.a);
      const received: GrpcEvent[] = [];
      const done = new Promise<GrpcEvent[]>((resolve) =>
        stream.on('data', (event: GrpcEvent) => {
          received.push(event);
          if (until(event)) {
            stream.cancel();
            resolve(received);
          }
        }),
      );
      stream.on('error', () => undefined);
      return done;
    };
    const firstPart = collect('0', (event) => event.type === 'UserMessageReceived');
    await client.call('Sessions', 'SendMessage', { session_id: 'g3', content: 'one' }, KEYS.a);
    const first = await firstPart;
    await client.call('Sessions', 'Cancel', { session_id: 'g3' }, KEYS.a);
    const last = first.at(-1)?.version ?? '0';
    const second = await collect(last, (event) => event.type === 'TurnCancelled');
    const versions = [...first, ...second].map((event) => Number(event.version));
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
  });

  it('lists, audits, forks and closes sessions over gRPC, tenant-scoped', async () => {
    const list = (await client.call('Sessions', 'ListSessions', { team_id: 'g1', limit: 2 }, KEYS.a)) as {
      items: { session_id: string; created_at: string }[];
      next_cursor?: string;
    };
    expect(list.items).toHaveLength(2);
    expect(list.next_cursor).toEqual(expect.any(String));
    const rest = (await client.call('Sessions', 'ListSessions', { cursor: list.next_cursor }, KEYS.a)) as {
      items: { session_id: string }[];
    };
    expect(rest.items.map((item) => item.session_id)).not.toContain(list.items[0]?.session_id);
    expect(await client.call('Sessions', 'ListSessions', {}, KEYS.b)).toMatchObject({ items: [] });
    const badCursor = await failure(client.call('Sessions', 'ListSessions', { cursor: 'zzz' }, KEYS.a));
    expect(badCursor.code).toBe(status.INVALID_ARGUMENT);
    const future = { team_id: 'g1', created_after: '2999-01-01' };
    expect(await client.call('Sessions', 'ListSessions', future, KEYS.a)).toMatchObject({ items: [] });
    const past = { team_id: 'g1', created_after: '2000-01-01T00:00:00Z', created_before: '2999-01-01' };
    const dated = (await client.call('Sessions', 'ListSessions', past, KEYS.a)) as { items: unknown[] };
    expect(dated.items.length).toBeGreaterThan(2);
    const badDate = await failure(
      client.call('Sessions', 'ListSessions', { created_before: 'soon' }, KEYS.a),
    );
    expect(badDate.code).toBe(status.INVALID_ARGUMENT);
    expect(problemOf(badDate).errors).toEqual([expect.objectContaining({ field: 'created_before' })]);

    expect(await client.call('Sessions', 'AuditSession', { session_id: 'g1' }, KEYS.a)).toMatchObject({
      hash_chain_valid: true,
      replay_matches: true,
    });
    const fork = await client.call(
      'Sessions',
      'ForkSession',
      { session_id: 'g1', at_version: '1', new_session_id: 'g1-fork' },
      KEYS.a,
    );
    expect(fork).toEqual({ session_id: 'g1-fork', status: 'idle', version: '1' });
    expect(await client.call('Sessions', 'CloseSession', { session_id: 'g1-fork' }, KEYS.a)).toMatchObject({
      status: 'closed',
    });
    const afterClose = await failure(
      client.call('Sessions', 'SendMessage', { session_id: 'g1-fork', content: 'x' }, KEYS.a),
    );
    expect(afterClose.code).toBe(status.FAILED_PRECONDITION);
    const hidden = await failure(client.call('Sessions', 'AuditSession', { session_id: 'g1' }, KEYS.b));
    expect(hidden.code).toBe(status.NOT_FOUND);
  });

  it('ends a stream with NOT_FOUND for another tenant', async () => {
    const stream = client.stream('StreamEvents', { session_id: 'g2', after: '0' }, KEYS.b);
    const error = await new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    expect(error.code).toBe(status.NOT_FOUND);
  });
});
