import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '@agentledger/client';

export type ReceivedWebhook = Readonly<{
  id: string;
  type: string;
  sessionId: string;
  version: number;
  body: string;
}>;

/**
 * A business system's webhook endpoint: verifies every request with the client package's verifier
 * (401 otherwise), records it, and answers 204 — after `holdMs` when set. It can go down and come
 * back on the same port.
 */
export const startWebhookReceiver = async (secret: () => string) => {
  const received: ReceivedWebhook[] = [];
  /** Deliveries whose 204 was written out: what the sender saw succeed. */
  const acknowledged: ReceivedWebhook[] = [];
  let rejected = 0;
  const settings = { holdMs: 0 };
  const handle: Parameters<typeof createServer>[1] = (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let id: string;
      try {
        id = verifyWebhook({ secret: secret(), headers: request.headers, body }).id;
      } catch {
        rejected += 1;
        response.writeHead(401).end();
        return;
      }
      const payload = JSON.parse(body) as { type: string; data: { sessionId: string; version: number } };
      const item = {
        id,
        type: payload.type,
        sessionId: payload.data.sessionId,
        version: payload.data.version,
        body,
      };
      received.push(item);
      const answer = () => {
        response.once('finish', () => acknowledged.push(item));
        response.writeHead(204).end();
      };
      if (settings.holdMs > 0) setTimeout(answer, settings.holdMs);
      else answer();
    });
  };
  let server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/agentledger-hooks`,
    received,
    acknowledged,
    settings,
    rejected: () => rejected,
    down: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    up: async () => {
      server = createServer(handle);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    close: async () => {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
