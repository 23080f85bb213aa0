/**
 * Receives AgentLedger webhooks (register it with `PUT /v1/webhooks/{id}` or the client's
 * `putWebhook`; the secret is in the answer) and checks their Standard Webhooks signature with
 * `@agentledger/client`'s verifier before trusting them; deduplicates on the delivery id (delivery is
 * at least once).
 *
 *   WEBHOOK_SECRET=whsec_... node --conditions=@agentledger/source examples/webhook-receiver.ts
 */
import { createServer } from 'node:http';
import { verifyWebhook, WebhookVerificationError } from '@agentledger/client';

const secret = process.env.WEBHOOK_SECRET ?? '';
const port = Number(process.env.PORT ?? 8080);
/** Delivery ids already handled; a real receiver keeps them in its database. */
const handled = new Set<string>();

createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks);
    try {
      const { id } = verifyWebhook({ secret, headers: request.headers, body });
      if (!handled.has(id)) {
        handled.add(id);
        console.log(`delivery ${id}:`, JSON.parse(body.toString('utf8')));
      }
      response.writeHead(204).end();
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      console.warn(`rejected: ${error.message}`);
      response.writeHead(401).end();
    }
  });
}).listen(port, () => console.log(`listening on :${port}`));
