import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCallAction } from '../core/session/next-action.ts';
import { runToolCall } from '../effects/run-tool-call.ts';
import { singleModelClient } from '../model/model-resolver.ts';
import { createScriptedModelClient } from '../model/scripted-client.ts';
import { sessionHarness, spec } from '../testing/session-harness.ts';
import { calculatorTool } from './calculator.tool.ts';
import { createHttpRequestTool, IDEMPOTENCY_HEADER } from './http-request.tool.ts';
import { createToolRegistry, defineTool, type ToolContext } from './tool.ts';

const ctx = (over: Partial<ToolContext> = {}): ToolContext => ({
  idempotencyKey: 's1:t1.s1.m1.t0',
  tenantId: 'tenant',
  sessionId: 's1',
  toolCallId: 't1.s1.m1.t0',
  agent: 'a',
  signal: new AbortController().signal,
  ...over,
});

describe('defineTool', () => {
  it('derives the JSON schema the model sees from zod', () => {
    expect(calculatorTool.schema).toMatchObject({
      name: 'calculator',
      description: 'A simple calculator that performs basic arithmetic operations',
      parameters: {
        type: 'object',
        properties: {
          a: { type: 'number', description: 'first operand' },
          b: { type: 'number', description: 'second operand' },
          operator: { type: 'string', description: 'one of +, -, *, /' },
        },
        required: ['a', 'b', 'operator'],
      },
    });
    expect(calculatorTool.schema.parameters).not.toHaveProperty('$schema');
  });

  it('answers like AutoGen’s gallery calculator', async () => {
    expect(await calculatorTool.execute({ a: 6, b: 7, operator: '*' }, ctx())).toBe('42');
    expect(await calculatorTool.execute({ a: 1, b: 0, operator: '/' }, ctx())).toBe(
      'Error: Division by zero',
    );
    expect(await calculatorTool.execute({ a: 1, b: 2, operator: '^' }, ctx())).toBe(
      'Error: Invalid operator. Please use +, -, *, or /',
    );
  });

  it('rejects an invalid name; a registry resolves by name and is immutable', () => {
    expect(() =>
      defineTool({ ...calculatorTool, name: 'bad name', parameters: z.object({}), execute: () => '' }),
    ).toThrow(/invalid tool name/);
    const registry = createToolRegistry([calculatorTool]);
    const more = registry.with(
      defineTool({ ...calculatorTool, name: 'calc2', parameters: z.object({}), execute: () => '' }),
    );
    expect(registry.names()).toEqual(['calculator']);
    expect(more.names()).toEqual(['calculator', 'calc2']);
    expect(more.get('calc2')?.name).toBe('calc2');
  });
});

describe('http_request', () => {
  let received: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  let server: ReturnType<typeof createServer>;
  let host = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end('{"ticket":"T-1"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('calls an allowed host with the idempotency key header', async () => {
    received = [];
    const tool = createHttpRequestTool({ allowedHosts: [host] });
    const result = await tool.execute(
      { method: 'POST', url: `http://${host}/tickets`, body: '{"subject":"refund"}' },
      ctx(),
    );
    expect(result).toBe('{"status":201,"body":"{\\"ticket\\":\\"T-1\\"}"}');
    expect(received[0]).toMatchObject({ method: 'POST', url: '/tickets', body: '{"subject":"refund"}' });
    expect(received[0]!.headers[IDEMPOTENCY_HEADER.toLowerCase()]).toBe('s1:t1.s1.m1.t0');
  });

  it('refuses hosts off the allow-list before any I/O', async () => {
    received = [];
    const tool = createHttpRequestTool({ allowedHosts: ['crm.internal'] });
    await expect(tool.execute({ method: 'GET', url: `http://${host}/x` }, ctx())).rejects.toThrow(
      /not on the allow-list/,
    );
    expect(received).toEqual([]);
  });
});

describe('runToolCall', () => {
  const setup = (tools = createToolRegistry([calculatorTool])) => {
    const h = sessionHarness(
      spec({ type: 'single', agents: [{ name: 'a', tools: tools.names() as string[] }] }),
    );
    h.start();
    h.post('m1', 'go');
    return {
      h,
      deps: { models: singleModelClient(createScriptedModelClient()), tools, clock: () => new Date(0) },
    };
  };
  const call = (h: ReturnType<typeof sessionHarness>): ToolCallAction => {
    const t = Object.values(h.state().toolCalls)[0]!;
    return {
      toolCallId: t.toolCallId,
      idempotencyKey: `s1:${t.toolCallId}`,
      agent: t.agent,
      name: t.name,
      arguments: t.arguments,
      approved: false,
    };
  };

  it('turns a thrown error into a failed result', async () => {
    const tools = createToolRegistry([
      defineTool({
        name: 'boom',
        description: 'x',
        parameters: z.object({}),
        idempotent: true,
        requiresApproval: false,
        execute: () => {
          throw new Error('kaput');
        },
      }),
    ]);
    const { h, deps } = setup(tools);
    h.answer(null, [{ name: 'boom', arguments: '{}' }]);
    const command = await runToolCall(deps, h.state(), call(h));
    expect(command).toMatchObject({
      type: 'RecordToolResult',
      data: { outcome: 'failed', reason: 'error', message: 'kaput' },
    });
  });

  it('times a slow tool out', async () => {
    const tools = createToolRegistry([
      defineTool({
        name: 'slow',
        description: 'x',
        parameters: z.object({}),
        idempotent: true,
        requiresApproval: false,
        timeoutMs: 20,
        execute: () => new Promise(() => {}),
      }),
    ]);
    const { h, deps } = setup(tools);
    h.answer(null, [{ name: 'slow', arguments: '' }]);
    const command = await runToolCall(deps, h.state(), call(h));
    expect(command).toMatchObject({ data: { outcome: 'failed', reason: 'timeout' } });
  });

  it('fails a tool missing from the registry, and returns null for a call no longer pending', async () => {
    const { h, deps } = setup();
    h.answer(null, [{ name: 'calculator', arguments: '{"a":1,"b":1,"operator":"+"}' }]);
    const empty = { ...deps, tools: createToolRegistry([]) };
    expect(await runToolCall(empty, h.state(), call(h))).toMatchObject({ data: { reason: 'unknown-tool' } });
    const action = call(h);
    const command = await runToolCall(deps, h.state(), action);
    h.send(command!);
    expect(await runToolCall(deps, h.state(), action)).toBeNull();
  });
});
