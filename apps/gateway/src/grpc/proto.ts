import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { loadPackageDefinition, type GrpcObject, type ServiceDefinition } from '@grpc/grpc-js';
import { load, type Options } from '@grpc/proto-loader';

/** Where `agentledger/v1/*.proto` live: the @agentledger/proto package. */
export const PROTO_ROOT = dirname(createRequire(import.meta.url).resolve('@agentledger/proto/package.json'));
export const PROTO_FILES = [
  'agentledger/v1/sessions.proto',
  'agentledger/v1/teams.proto',
  'agentledger/v1/webhooks.proto',
] as const;

/** Field names as in the .proto (snake_case); int64 as strings so versions stay exact. */
export const PROTO_LOADER_OPTIONS: Options = {
  includeDirs: [PROTO_ROOT],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export type AgentLedgerServices = Readonly<{
  sessions: ServiceDefinition;
  teams: ServiceDefinition;
  webhooks: ServiceDefinition;
}>;

const serviceOf = (root: GrpcObject, name: string): ServiceDefinition => {
  const v1 = (root['agentledger'] as GrpcObject)['v1'] as GrpcObject;
  return (v1[name] as unknown as { service: ServiceDefinition }).service;
};

export const loadAgentLedgerServices = async (): Promise<AgentLedgerServices> => {
  const root = loadPackageDefinition(await load([...PROTO_FILES], PROTO_LOADER_OPTIONS));
  return {
    sessions: serviceOf(root, 'Sessions'),
    teams: serviceOf(root, 'Teams'),
    webhooks: serviceOf(root, 'Webhooks'),
  };
};
