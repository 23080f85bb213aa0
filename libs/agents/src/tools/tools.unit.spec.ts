import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { ToolCallAction } from '../core/session/next-action.ts';
import { runToolCall } from '../effects/run-tool-call.ts';
import { singleModelClient } from '../model/model-resolver.ts';
import { createScriptedModelClient } from '../model/scripted-client.ts';
import { sessionHarness, spec } from '../testing/session-harness.ts';
import { calculatorTool } from './calculator.tool.ts';
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

  it('claims an attempt only for a call whose arguments make it non-idempotent, and only when it runs', async () => {
    let runs = 0;
    const tools = createToolRegistry([
      defineTool({
        name: 'send',
        description: 'x',
        parameters: z.object({ method: z.enum(['GET', 'POST']) }),
        idempotent: false,
        idempotentFor: ({ method }) => method === 'GET',
        requiresApproval: false,
        execute: () => (runs += 1),
      }),
    ]);
    const claims: string[] = [];
    const taken = (id: string) => () => (claims.push(id), Promise.resolve(false));
    for (const [method, outcome] of [
      ['GET', 'completed'],
      ['POST', 'failed'],
    ] as const) {
      const { h, deps } = setup(tools);
      h.answer(null, [{ name: 'send', arguments: JSON.stringify({ method }) }]);
      const command = await runToolCall(deps, h.state(), call(h), { claimAttempt: taken(method) });
      expect(command?.data).toMatchObject({ outcome });
    }
    expect(claims).toEqual(['POST']);
    expect(runs).toBe(1);
  });

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
