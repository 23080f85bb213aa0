import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { registerRateTools } from './test-mcp-tools.ts';

export type RatesMcpServer = Readonly<{
  /** `http://127.0.0.1:<port>/mcp` */
  url: string;
  /** The `authorization` header of every request, in order (to prove where secrets went). */
  authorizations: readonly (string | undefined)[];
  close: () => Promise<void>;
}>;

const readJson = async (req: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
};

/**
 * A stateless Streamable HTTP MCP server for tests, built with the SDK, on 127.0.0.1. Every
 * request must carry `Authorization: Bearer <token>` (401 otherwise).
 */
export const startRatesMcpServer = async (token: string): Promise<RatesMcpServer> => {
  const authorizations: (string | undefined)[] = [];
  const http = createServer((req, res) => {
    void (async () => {
      authorizations.push(req.headers.authorization);
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
        return;
      }
      const server = new McpServer({ name: 'rates', version: '1.0.0' });
      registerRateTools(server);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.method === 'POST' ? await readJson(req) : undefined);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    authorizations,
    close: () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
};
