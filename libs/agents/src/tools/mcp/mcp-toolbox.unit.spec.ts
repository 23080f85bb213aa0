import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMcpServers } from '../../core/spec/mcp-servers.ts';
import { secretReader } from '../../core/spec/model-endpoints.ts';
import { DESK_MCP_SERVER_PATH, startRatesMcpServer, type RatesMcpServer } from '../../testing/index.ts';
import type { ToolContext } from '../tool.ts';
import { createMcpToolbox, type McpToolbox } from './mcp-toolbox.ts';

const ctx = (signal: AbortSignal = AbortSignal.timeout(10_000)): ToolContext => ({
  idempotencyKey: 'tenant/s1:t1.s1.m1.t0',
  tenantId: 'tenant',
  sessionId: 's1',
  toolCallId: 't1.s1.m1.t0',
  agent: 'a',
  signal,
});

// A real stdio MCP server (a child process) and a real Streamable HTTP one, both built with the SDK.
describe('the MCP toolbox against real MCP servers', () => {
  let rates: RatesMcpServer;
  let toolbox: McpToolbox;
  const env = { DESK_SECRET: 'desk-token', RATES_SECRET: 'rates-token' };

  beforeAll(async () => {
    rates = await startRatesMcpServer('rates-token');
    const servers = parseMcpServers(
      {
        AGENTLEDGER_MCP_SERVERS: JSON.stringify({
          desk: {
            command: process.execPath,
            args: [DESK_MCP_SERVER_PATH],
            env: { DESK_TOKEN: { env: 'DESK_SECRET' } },
          },
          rates: { url: rates.url, headers: { Authorization: { env: 'RATES_SECRET', prefix: 'Bearer ' } } },
          locked: { url: rates.url },
        }),
      },
      () => '',
    );
    toolbox = createMcpToolbox({ servers, readSecret: secretReader(env) });
  });

  afterAll(async () => {
    await toolbox?.close();
    await rates?.close();
  });

  it('lists tools with their JSON schemas and idempotency hints, over stdio and HTTP', async () => {
    const desk = await toolbox.list('desk');
    expect(desk.map((t) => [t.name, t.idempotent])).toEqual([
      ['lookup_order', true],
      ['add_note', false],
      ['echo', true],
      ['fail', false],
      ['nap', false],
    ]);
    expect(desk[0]!.inputSchema).toMatchObject({
      type: 'object',
      properties: { orderId: { type: 'string' } },
    });
    expect(await toolbox.list('rates')).toEqual([
      expect.objectContaining({ name: 'convert', idempotent: true }),
    ]);
  });

  it('calls tools with the idempotency key in _meta; secret headers reach only the registered server', async () => {
    expect(await toolbox.call('desk', 'lookup_order', { orderId: 'A1' }, ctx())).toBe('order A1: shipped');
    expect(await toolbox.call('desk', 'add_note', { orderId: 'A1', note: 'hi' }, ctx())).toBe(
      'noted on A1: hi (key tenant/s1:t1.s1.m1.t0)',
    );
    expect(await toolbox.call('rates', 'convert', { amount: 10, from: 'EUR', to: 'USD' }, ctx())).toBe(
      '10 EUR = 20.00 USD',
    );
    expect(rates.authorizations.filter((a) => a !== undefined).every((a) => a === 'Bearer rates-token')).toBe(
      true,
    );
    await expect(toolbox.list('locked')).rejects.toThrow();
    await expect(toolbox.list('unregistered')).rejects.toThrow(/not registered/);
  });

  it('a tool error is thrown with its text; an aborted call stops waiting at once', async () => {
    await expect(toolbox.call('desk', 'fail', {}, ctx())).rejects.toThrow('the desk is closed');
    const controller = new AbortController();
    const napping = toolbox.call('desk', 'nap', {}, ctx(controller.signal));
    setTimeout(() => controller.abort(new Error('cancelled')), 50);
    await expect(napping).rejects.toThrow();
    expect(await toolbox.call('desk', 'lookup_order', { orderId: 'B2' }, ctx())).toBe('order B2: shipped');
  });
});
