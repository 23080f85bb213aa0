import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxiedRequest = Readonly<{ method: string; url: string; headers: IncomingMessage['headers'] }>;

export type FaultProxy = Readonly<{
  url: string;
  /** Every request that reached the proxy, in order. */
  requests: ProxiedRequest[];
  /** The next request `matches` picks is forwarded and answered upstream, but its answer is lost. */
  dropNextResponse: (matches: (request: ProxiedRequest) => boolean) => void;
  /** Cuts every streaming (SSE) answer in flight, as a broken connection would. */
  dropStreams: () => number;
  close: () => Promise<void>;
}>;

/**
 * An HTTP proxy in front of a live gateway that injects network faults a client must survive: a
 * response lost after the server committed, and a stream cut mid-way.
 */
export const startFaultProxy = async (target: string): Promise<FaultProxy> => {
  const requests: ProxiedRequest[] = [];
  const streams = new Set<ServerResponse>();
  const drops: ((request: ProxiedRequest) => boolean)[] = [];
  const upstream = new URL(target);

  const server = createServer((req, res) => {
    const seen: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    requests.push(seen);
    const dropIndex = drops.findIndex((matches) => matches(seen));
    const drop = dropIndex !== -1;
    if (drop) drops.splice(dropIndex, 1);
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: seen.method,
        path: seen.url,
        headers: req.headers,
      },
      (answer) => {
        if (drop) {
          answer.resume();
          answer.once('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (String(answer.headers['content-type']).startsWith('text/event-stream')) {
          streams.add(res);
          res.once('close', () => {
            streams.delete(res);
            forward.destroy();
          });
        }
        answer.pipe(res);
      },
    );
    forward.once('error', () => req.socket.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    dropNextResponse: (matches) => void drops.push(matches),
    dropStreams: () => {
      const cut = streams.size;
      for (const stream of streams) stream.socket?.destroy();
      return cut;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
