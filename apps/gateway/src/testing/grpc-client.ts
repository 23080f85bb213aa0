import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type GrpcObject,
  type ServiceError,
} from '@grpc/grpc-js';
import { load } from '@grpc/proto-loader';
import { PROTO_FILES, PROTO_ROOT } from '../grpc/proto.ts';

type Callback = (error: ServiceError | null, response: unknown) => void;
type UnaryMethod = (request: unknown, metadata: Metadata, callback: Callback) => void;
type StreamMethod = (request: unknown, metadata: Metadata) => NodeJS.ReadableStream & { cancel: () => void };

export type GrpcTestClient = Readonly<{
  call: (
    service: 'Sessions' | 'Teams' | 'Webhooks',
    method: string,
    request: unknown,
    key?: string,
    /** More metadata entries (e.g. `traceparent`). */
    extra?: Readonly<Record<string, string>>,
  ) => Promise<unknown>;
  stream: (method: string, request: unknown, key?: string) => NodeJS.ReadableStream & { cancel: () => void };
  close: () => void;
}>;

const metadataFor = (key: string | undefined, extra: Readonly<Record<string, string>> = {}): Metadata => {
  const metadata = new Metadata();
  if (key !== undefined) metadata.set('authorization', `Bearer ${key}`);
  for (const [name, value] of Object.entries(extra)) metadata.set(name, value);
  return metadata;
};

/** A client generated from libs/proto at run time, as a business system would load it. */
export const connectGrpc = async (address: string): Promise<GrpcTestClient> => {
  const definition = await load([...PROTO_FILES], {
    includeDirs: [PROTO_ROOT],
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    keepCase: true,
  });
  const v1 = ((loadPackageDefinition(definition)['agentledger'] as GrpcObject)['v1'] ?? {}) as GrpcObject;
  const create = (name: string): Client => {
    const Service = v1[name] as unknown as new (
      address: string,
      creds: ReturnType<typeof credentials.createInsecure>,
    ) => Client;
    return new Service(address, credentials.createInsecure());
  };
  const clients = { Sessions: create('Sessions'), Teams: create('Teams'), Webhooks: create('Webhooks') };
  return {
    call: (service, method, request, key, extra) =>
      new Promise((resolve, reject) => {
        const fn = (clients[service] as unknown as Record<string, UnaryMethod>)[method];
        if (fn === undefined) throw new Error(`no method ${service}.${method}`);
        fn.call(clients[service], request, metadataFor(key, extra), (error, response) =>
          error === null ? resolve(response) : reject(error),
        );
      }),
    stream: (method, request, key) => {
      const fn = (clients.Sessions as unknown as Record<string, StreamMethod>)[method];
      if (fn === undefined) throw new Error(`no method Sessions.${method}`);
      return fn.call(clients.Sessions, request, metadataFor(key));
    },
    close: () => {
      clients.Sessions.close();
      clients.Teams.close();
      clients.Webhooks.close();
    },
  };
};
