import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolContext } from '../tool.ts';
import { isNonPublicAddress } from './address-ranges.ts';
import { createHttpRequestTool, IDEMPOTENCY_HEADER } from './http-request.tool.ts';
import { AddressNotAllowed, createNodeHttpTransport, type ResolvedAddress } from './node-http-transport.ts';

const ctx = (): ToolContext => ({
  idempotencyKey: 's1:t1.s1.m1.t0',
  tenantId: 'tenant',
  sessionId: 's1',
  toolCallId: 't1.s1.m1.t0',
  agent: 'a',
  signal: new AbortController().signal,
});

type Received = { method: string; url: string; headers: IncomingHttpHeaders; body: string };

describe('http_request', () => {
  let received: Received[] = [];
  /** Bytes the endless route managed to write before the client closed the connection. */
  let endlessWritten = 0;
  let endlessClosed: Promise<void> = Promise.resolve();
  let server: Server;
  let port = 0;
  let host = '';
  // Tests run the business system on 127.0.0.1: the operator's explicit opt-in.
  const local = createNodeHttpTransport({ allowPrivateAddresses: true });

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/endless') {
        endlessWritten = 0;
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        endlessClosed = new Promise((closed) => res.on('close', () => closed()));
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) endlessWritten += chunk.length;
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
        return;
      }
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(req.method === 'HEAD' ? undefined : '{"ticket":"T-1"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    host = `127.0.0.1:${port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const tool = (allowedHosts: string[] = [host], transport = local) =>
    createHttpRequestTool({ allowedHosts, transport });

  it('calls an allowed host with the idempotency key header', async () => {
    received = [];
    const result = await tool().execute(
      { method: 'POST', url: `http://${host}/tickets`, body: '{"subject":"refund"}' },
      ctx(),
    );
    expect(result).toBe('{"status":201,"body":"{\\"ticket\\":\\"T-1\\"}"}');
    expect(received[0]).toMatchObject({ method: 'POST', url: '/tickets', body: '{"subject":"refund"}' });
    expect(received[0]!.headers[IDEMPOTENCY_HEADER.toLowerCase()]).toBe('s1:t1.s1.m1.t0');
  });

  it('refuses hosts off the allow-list before any I/O', async () => {
    received = [];
    await expect(
      tool(['crm.internal']).execute({ method: 'GET', url: `http://${host}/x` }, ctx()),
    ).rejects.toThrow(/not on the allow-list/);
    expect(received).toEqual([]);
  });

  it('matches host and port: a bare host allows only the default port, host:port only that port', async () => {
    received = [];
    for (const entry of ['127.0.0.1', `127.0.0.1:${port + 1}`, `localhost:${port}`])
      await expect(tool([entry]).execute({ method: 'GET', url: `http://${host}/x` }, ctx())).rejects.toThrow(
        /not on the allow-list/,
      );
    expect(received).toEqual([]);
    await expect(
      tool([`127.0.0.1:${port}`]).execute({ method: 'GET', url: `http://${host}/x` }, ctx()),
    ).resolves.toContain('"status":201');
  });

  it.each(['Authorization', 'host', 'Cookie', 'idempotency-key', 'Proxy-Authorization'])(
    'refuses a %s header set by the model',
    async (name) => {
      received = [];
      await expect(
        tool().execute({ method: 'GET', url: `http://${host}/x`, headers: { [name]: 'forged' } }, ctx()),
      ).rejects.toThrow(/set by the runtime, not by the model/);
      expect(received).toEqual([]);
    },
  );

  it('reads the response streamed up to the cap, then closes the connection', async () => {
    const capped = createHttpRequestTool({ allowedHosts: [host], transport: local, maxResponseBytes: 1_000 });
    const result = JSON.parse(
      (await capped.execute({ method: 'GET', url: `http://${host}/endless` }, ctx())) as string,
    ) as { status: number; body: string; truncated: boolean };
    expect(result).toMatchObject({ status: 200, truncated: true });
    expect(result.body).toBe('x'.repeat(1_000));
    await endlessClosed;
    expect(endlessWritten).toBeLessThan(64 * 1024 * 1024);
  });

  it('counts only GET, HEAD, PUT and DELETE as idempotent by default', () => {
    const http = tool();
    const idempotent = (method: string) => http.callIdempotent({ method, url: `http://${host}/` });
    expect(['GET', 'HEAD', 'PUT', 'DELETE'].map(idempotent)).toEqual([true, true, true, true]);
    expect(['POST', 'PATCH'].map(idempotent)).toEqual([false, false]);
    const custom = createHttpRequestTool({
      allowedHosts: [host],
      transport: local,
      idempotentMethods: ['POST'],
    });
    expect(custom.callIdempotent({ method: 'POST', url: `http://${host}/` })).toBe(true);
  });

  it('sends HEAD without a body', async () => {
    received = [];
    await expect(tool().execute({ method: 'HEAD', url: `http://${host}/h` }, ctx())).resolves.toBe(
      '{"status":201,"body":""}',
    );
    expect(received[0]).toMatchObject({ method: 'HEAD', body: '' });
  });

  describe('addresses (after name resolution)', () => {
    const strict = (resolve?: (hostname: string) => Promise<readonly ResolvedAddress[]>) =>
      createNodeHttpTransport(resolve ? { resolve } : {});

    it.each([
      '127.0.0.1:PORT',
      '[::ffff:127.0.0.1]:PORT',
      '[::ffff:a9fe:a9fe]:PORT',
      '[::1]:PORT',
      '0.0.0.0:PORT',
    ])('refuses the literal address %s unless the operator allows private addresses', async (template) => {
      received = [];
      const literal = template.replace('PORT', String(port));
      await expect(
        tool([literal], strict()).execute({ method: 'GET', url: `http://${literal}/x` }, ctx()),
      ).rejects.toBeInstanceOf(AddressNotAllowed);
      expect(received).toEqual([]);
    });

    it('refuses a name that resolves to the metadata address, before connecting', async () => {
      const looked: string[] = [];
      const transport = strict((name) => {
        looked.push(name);
        return Promise.resolve([{ address: '169.254.169.254', family: 4 }]);
      });
      await expect(
        tool(['metadata.test'], transport).execute(
          { method: 'GET', url: 'http://metadata.test/latest' },
          ctx(),
        ),
      ).rejects.toThrow(/metadata\.test resolves to 169\.254\.169\.254/);
      expect(looked).toEqual(['metadata.test']);
    });

    it('refuses a name when any of its addresses is private', async () => {
      const transport = strict(() =>
        Promise.resolve([
          { address: '93.184.216.34', family: 4 },
          { address: 'fd00::1', family: 6 },
        ]),
      );
      await expect(
        tool(['mixed.test'], transport).execute({ method: 'GET', url: 'http://mixed.test/' }, ctx()),
      ).rejects.toThrow(/fd00::1/);
    });

    it('connects to the address it checked: the name is resolved once, never again by the socket', async () => {
      received = [];
      let lookups = 0;
      const transport = createNodeHttpTransport({
        allowPrivateAddresses: true,
        resolve: () => {
          lookups += 1;
          return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
        },
      });
      const result = await tool([`business.invalid:${port}`], transport).execute(
        { method: 'GET', url: `http://business.invalid:${port}/pinned` },
        ctx(),
      );
      expect(result).toContain('"status":201');
      expect(lookups).toBe(1);
      expect(received[0]).toMatchObject({ url: '/pinned', headers: { host: `business.invalid:${port}` } });
    });
  });
});

describe('isNonPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '100.64.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fd00::1',
    'fd00:ec2::254',
    'fc00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '[::1]',
    'not-an-address',
  ])('refuses %s', (address) => expect(isNonPublicAddress(address)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) =>
    expect(isNonPublicAddress(address)).toBe(false),
  );
});
