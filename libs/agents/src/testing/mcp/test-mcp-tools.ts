import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

/**
 * The order desk (served over stdio): `lookup_order` declares `idempotentHint`, `add_note` does
 * not (it echoes the idempotency key the client sent in `_meta`), `fail` answers `isError`, and
 * `nap` waits until the client cancels it.
 */
export const registerDeskTools = (server: McpServer): void => {
  server.registerTool(
    'lookup_order',
    {
      description: 'Looks up an order by id',
      inputSchema: { orderId: z.string().describe('The order id, e.g. A1') },
      annotations: { readOnlyHint: true, idempotentHint: true },
    },
    ({ orderId }) => text(`order ${orderId}: shipped`),
  );
  server.registerTool(
    'add_note',
    {
      description: 'Adds a note to an order',
      inputSchema: { orderId: z.string(), note: z.string() },
    },
    ({ orderId, note }, extra) =>
      text(`noted on ${orderId}: ${note} (key ${String(extra._meta?.['idempotencyKey'] ?? 'none')})`),
  );
  server.registerTool(
    'echo',
    {
      description: 'Echoes its text',
      inputSchema: { text: z.string() },
      annotations: { idempotentHint: true },
    },
    ({ text: said }) => text(`echo: ${said}`),
  );
  server.registerTool('fail', { description: 'Always fails', inputSchema: {} }, () => ({
    ...text('the desk is closed'),
    isError: true,
  }));
  server.registerTool(
    'nap',
    { description: 'Sleeps until cancelled', inputSchema: {} },
    (_args, extra) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(text('woke up')), 60_000);
        extra.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
      }),
  );
};

/** Currency rates (served over Streamable HTTP): `convert` declares `idempotentHint`. */
export const registerRateTools = (server: McpServer): void => {
  server.registerTool(
    'convert',
    {
      description: 'Converts an amount between currencies at a fixed test rate',
      inputSchema: { amount: z.number(), from: z.string(), to: z.string() },
      annotations: { idempotentHint: true },
    },
    ({ amount, from, to }) => text(`${amount} ${from} = ${(amount * 2).toFixed(2)} ${to}`),
  );
};
