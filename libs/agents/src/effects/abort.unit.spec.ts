import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { ModelClient } from '../core/model/model-client.port.ts';
import type { NextAction, ToolCallAction } from '../core/session/next-action.ts';
import { nextAction } from '../core/session/next-action.ts';
import { singleModelClient } from '../model/model-resolver.ts';
import { createScriptedModelClient } from '../model/scripted-client.ts';
import { sessionHarness, spec } from '../testing/session-harness.ts';
import { createToolRegistry, defineTool, type ToolContext } from '../tools/tool.ts';
import { TurnAborted } from './effect-deps.ts';
import { runModelCall } from './run-model-call.ts';
import { runToolCall } from './run-tool-call.ts';

const sleeper = (idempotent: boolean, seen: ToolContext[]) =>
  defineTool({
    name: idempotent ? 'nap' : 'charge',
    description: 'waits for its signal',
    parameters: z.object({}),
    idempotent,
    requiresApproval: false,
    execute: (_args, ctx) =>
      new Promise((_, reject) => {
        seen.push(ctx);
        ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }),
  });

const withToolCall = (tool: string) => {
  const h = sessionHarness(spec({ type: 'single', agents: [{ name: 'a', tools: ['nap', 'charge'] }] }));
  h.start();
  h.post('m1', 'go');
  h.answer(null, [{ name: tool, arguments: '{}' }]);
  const action = nextAction(h.state()) as Extract<NextAction, { kind: 'run_tools' }>;
  return { h, call: action.calls[0] as ToolCallAction };
};

describe('calls cut short because their turn was cancelled', () => {
  it.each([
    [true, 'aborted'],
    [false, 'unknown-outcome'],
  ] as const)(
    'a tool (idempotent: %s) gets the signal and its key, and is recorded %s',
    async (idempotent, reason) => {
      const seen: ToolContext[] = [];
      const { h, call } = withToolCall(idempotent ? 'nap' : 'charge');
      const controller = new AbortController();
      const deps = {
        models: singleModelClient(createScriptedModelClient()),
        tools: createToolRegistry([sleeper(true, seen), sleeper(false, seen)]),
        clock: () => new Date(0),
        signal: controller.signal,
      };
      const running = runToolCall(deps, h.state(), call);
      await Promise.resolve();
      controller.abort(new TurnAborted('t1'));
      const command = await running;
      expect(seen[0]).toMatchObject({
        idempotencyKey: `tenant/s1:${call.toolCallId}`,
        toolCallId: call.toolCallId,
      });
      expect(seen[0]!.signal.aborted).toBe(true);
      expect(command).toMatchObject({ type: 'RecordToolResult', data: { outcome: 'failed', reason } });
    },
  );

  it('a model call aborted by its turn records error type aborted (not retryable); another turn’s abort does not', async () => {
    const h = sessionHarness(spec({ type: 'single', agents: [{ name: 'a' }] }));
    h.start();
    h.post('m1', 'go');
    const hanging: ModelClient = {
      complete: (_request, { signal }) =>
        new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')))),
    };
    const action = nextAction(h.state()) as Extract<NextAction, { kind: 'call_model' }>;
    const run = async (turnId: string) => {
      const controller = new AbortController();
      const deps = {
        models: singleModelClient(hanging),
        tools: createToolRegistry(),
        clock: () => new Date(0),
        signal: controller.signal,
      };
      const running = runModelCall(deps, h.state(), action);
      await Promise.resolve();
      controller.abort(new TurnAborted(turnId));
      return running;
    };
    expect((await run('t1'))?.data).toMatchObject({
      outcome: 'failed',
      error: { type: 'aborted', retryable: false },
    });
    expect((await run('t0'))?.data).toMatchObject({ outcome: 'failed', error: { type: 'error' } });
  });
});
