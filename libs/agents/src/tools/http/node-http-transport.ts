import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isNonPublicAddress } from './address-ranges.ts';
import type { HttpTransport, HttpTransportRequest, HttpTransportResponse } from './http-transport.ts';

export type ResolvedAddress = Readonly<{ address: string; family: 4 | 6 }>;

export type NodeHttpTransportOptions = Readonly<{
  /**
   * Operator's explicit choice to let the tool reach private, loopback, link-local and metadata
   * addresses (e.g. business systems on an internal network). Default false.
   */
  allowPrivateAddresses?: boolean;
  /** Name resolution; default the system resolver (`dns.lookup`, all addresses). */
  resolve?: (hostname: string) => Promise<readonly ResolvedAddress[]>;
}>;

/** Refused before any connection: the model reads the message. */
export class AddressNotAllowed extends Error {
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, a private or reserved address the operator did not allow`);
    this.name = 'AddressNotAllowed';
  }
}

const systemResolve = async (hostname: string): Promise<readonly ResolvedAddress[]> =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({
    address,
    family: family === 6 ? 6 : 4,
  }));

/**
 * The Node adapter of `HttpTransport`. A host name is resolved once; every address it resolves to
 * is checked, and the socket connects to the checked address (the `lookup` hook answers with it),
 * so a DNS answer that changes between check and connect (rebinding) changes nothing. TLS still
 * verifies the certificate against the host name. Redirects are returned, never followed.
 */
export const createNodeHttpTransport = (options: NodeHttpTransportOptions = {}): HttpTransport => {
  const resolve = options.resolve ?? systemResolve;
  const allowPrivate = options.allowPrivateAddresses ?? false;

  const pinnedAddress = async (url: URL): Promise<ResolvedAddress> => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const literal = isIP(host);
    const addresses = literal === 0 ? await resolve(host) : [{ address: host, family: literal as 4 | 6 }];
    if (addresses.length === 0) throw new Error(`${host} does not resolve`);
    const refused = addresses.find((a) => isNonPublicAddress(a.address));
    if (refused && !allowPrivate) throw new AddressNotAllowed(host, refused.address);
    return addresses[0]!;
  };

  return async (request) => {
    const pinned = await pinnedAddress(request.url);
    const lookup: LookupFunction = (_hostname, lookupOptions, callback) => {
      if (lookupOptions.all) callback(null, [pinned]);
      else callback(null, pinned.address, pinned.family);
    };
    return send(request, lookup);
  };
};

const send = (request: HttpTransportRequest, lookup: LookupFunction): Promise<HttpTransportResponse> =>
  new Promise((resolvePromise, reject) => {
    const make = request.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing = make(
      request.url,
      { method: request.method, headers: request.headers, lookup, signal: request.signal },
      (response) => readCapped(response, request.maxResponseBytes).then(resolvePromise, reject),
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });

/** Reads at most `maxBytes` of the body as it streams in, then closes the connection. */
const readCapped = (response: IncomingMessage, maxBytes: number): Promise<HttpTransportResponse> =>
  new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (truncated: boolean) => {
      if (done) return;
      done = true;
      const body = Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
      resolvePromise({ status: response.statusCode ?? 0, body, truncated });
    };
    response.on('data', (chunk: Buffer) => {
      if (done) return;
      chunks.push(chunk);
      size += chunk.length;
      if (size <= maxBytes) return;
      finish(true);
      response.destroy();
    });
    response.on('end', () => finish(false));
    const fail = (error: Error) => {
      if (done) return;
      done = true;
      reject(error);
    };
    response.on('error', fail);
    response.on('close', () => fail(new Error('the connection closed before the response ended')));
  });
