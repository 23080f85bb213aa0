import { status, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectGrpc, type GrpcTestClient } from '../testing/grpc-client.ts';
import { KEYS, startSession, startTestGateway, type TestGateway } from '../testing/test-gateway.ts';

const unary: readonly (readonly ['Sessions' | 'Teams', string])[] = [
  ['Teams', 'PutTeam'],
  ['Teams', 'GetTeam'],
  ['Sessions', 'CreateSession'],
  ['Sessions', 'SendMessage'],
  ['Sessions', 'GetSession'],
  ['Sessions', 'ListEvents'],
  ['Sessions', 'Cancel'],
  ['Sessions', 'Approve'],
  ['Sessions', 'CloseSession'],
  ['Sessions', 'ForkSession'],
  ['Sessions', 'ListSessions'],
  ['Sessions', 'AuditSession'],
];

/** Server faults: what a malformed request must never produce. */
const SERVER_FAULTS = new Set<number>([
  status.INTERNAL,
  status.UNKNOWN,
  status.DATA_LOSS,
  status.UNIMPLEMENTED,
]);

const text = fc.oneof(
  fc.constantFrom('fuzz', 'support', '', '-x', 'a'.repeat(200), '{', '{}', 'null', '[]', '0', '-1', '1e30'),
  fc.string({ maxLength: 60 }),
  fc.json(),
);
const requests = fc.record(
  {
    team_id: text,
    session_id: text,
    spec_json: text,
    metadata_json: text,
    idempotency_key: text,
    content: text,
    wait_seconds: fc.constantFrom(0, 301, 1_000_000, -1),
    at_version: fc.constantFrom('0', '1', '99999', '-5', '9223372036854775807'),
    after: fc.constantFrom('0', '1', '-1', '9223372036854775807'),
    limit: fc.integer({ min: -5, max: 5000 }),
    tool_call_id: text,
    approve: fc.boolean(),
    reason: text,
    new_session_id: text,
    status: text,
    cursor: text,
  },
  { requiredKeys: [] },
);

describe('fuzz: random gRPC requests to every rpc', () => {
  let gateway: TestGateway;
  let client: GrpcTestClient;
  beforeAll(async () => {
    gateway = await startTestGateway();
    client = await connectGrpc(gateway.grpcAddress);
    await startSession(gateway, KEYS.a, 'fuzz');
  });
  afterAll(async () => {
    client.close();
    await gateway.close();
  });

  it('never answers with a server fault and stores nothing for a rejected call', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...unary),
        requests,
        fc.constantFrom<string | undefined>(KEYS.a, KEYS.a, KEYS.b, 'nope', undefined),
        async ([service, method], request, key) => {
          // The committed head, not a count of readAll (which may stop short under load).
          const before = await gateway.store.committedHead();
          const error = await client.call(service, method, request, key).then(
            () => undefined,
            (failure: ServiceError) => failure,
          );
          if (error === undefined) return;
          expect(SERVER_FAULTS.has(error.code), `${service}.${method}: ${error.code} ${error.details}`).toBe(
            false,
          );
          expect(await gateway.store.committedHead()).toBe(before);
        },
      ),
      { numRuns: 300 },
    );
  });
});
