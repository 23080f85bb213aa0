import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  builtinTools,
  createScriptedModelClient,
  createToolRegistry,
  defineTool,
  type ModelClient,
  type SessionCommand,
  type TeamSpec,
  type ToolCallAction,
  type ToolRegistry,
} from '@agentledger/agents';
import { spec } from '@agentledger/agents/testing';
import { createInMemoryEventStore, sessionStreamId } from '@agentledger/events';
import { createInMemorySessionIndex } from '../memory/memory-session-index.ts';
import { meta, postMessage, startSession } from '../testing/fixtures.ts';
import { createSessionEngine } from './session-engine.ts';
import { createStepSpan, traceToolCall } from './step-spans.ts';

const FIRST = '4bf92f3577b34da6a3ce929d0e0e4736';
const SECOND = '0af7651916cd43dd8448eb211c80319c';
const ref = { tenantId: 'tenant-a', sessionId: 's1' };
const traceIdOf = (traceparent: string | undefined) => traceparent?.split('-')[1];

// The engine's spans with the SDK registered in this process: a step's model calls and appends are
// children of its span, and a message queued behind a running turn gets a trace of its own even
// when the same step goes on to run it.
describe('step spans', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it('traces each turn in the trace of the message that started it, with GenAI attributes', async () => {
    const store = createInMemoryEventStore();
    const engine = createSessionEngine({
      store,
      index: createInMemorySessionIndex(),
      partitions: 12,
      // `model` is resolved at call time, once it exists.
      effects: { models: () => model, tools: builtinTools(), clock: () => new Date('2026-01-01T00:00:00Z') },
    });
    let calls = 0;
    // The first model call sees a second message arrive (queued: onBusy enqueue) from another trace.
    const model: ModelClient = {
      complete: async () => {
        calls += 1;
        if (calls === 1)
          await engine.handle(postMessage('m2', 'and then?'), {
            ...ref,
            metadata: { traceparent: `00-${SECOND}-00f067aa0ba902b7-01` },
          });
        return {
          content: `answer ${calls}`,
          toolCalls: [],
          usage: { promptTokens: 10 * calls, completionTokens: calls },
          finishReason: 'stop',
        };
      },
    };
    await engine.handle(startSession('s1'), ref);
    await engine.handle(postMessage('m1', 'hello'), {
      ...ref,
      metadata: { traceparent: `00-${FIRST}-b7ad6b7169203331-01` },
    });

    const outcome = await engine.step(ref, undefined, new AbortController().signal);
    expect(outcome.status).toBe('idle');
    expect(calls).toBe(2);

    const spans = exporter.getFinishedSpans();
    const steps = spans.filter((s) => s.name === 'session.step');
    expect(steps.map((s) => s.spanContext().traceId)).toEqual([FIRST, SECOND]);
    const models = spans.filter((s) => s.kind === SpanKind.CLIENT);
    expect(models.map((s) => [s.spanContext().traceId, s.parentSpanContext?.spanId])).toEqual([
      [FIRST, steps[0]?.spanContext().spanId],
      [SECOND, steps[1]?.spanContext().spanId],
    ]);
    expect(models[1]?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'agentledger.scripted',
      'gen_ai.request.model': 'scripted',
      'gen_ai.usage.input_tokens': 20,
      'gen_ai.usage.output_tokens': 2,
      'gen_ai.response.finish_reasons': ['stop'],
    });

    // The stored events say the same: each model result is in the trace of its turn's message.
    const events = await store.readStream(sessionStreamId('tenant-a', 's1'), { tenantId: 'tenant-a' });
    const completed = events.filter((e) => e.type === 'ModelCallCompleted');
    expect(completed.map((e) => traceIdOf(e.metadata.traceparent))).toEqual([FIRST, SECOND]);
  });

  /** An engine whose session `s1` (the fixtures' one-agent team unless `team` is given) has a message waiting. */
  const engineWith = async (
    model: ModelClient,
    { team, tools = builtinTools() }: { team?: TeamSpec; tools?: ToolRegistry } = {},
  ) => {
    const engine = createSessionEngine({
      store: createInMemoryEventStore(),
      index: createInMemorySessionIndex(),
      partitions: 12,
      effects: { models: () => model, tools, clock: () => new Date('2026-01-01T00:00:00Z') },
    });
    await engine.handle(startSession('s1', 'tenant-a', team), ref);
    await engine.handle(postMessage('m1', 'hello'), {
      ...ref,
      metadata: { traceparent: `00-${FIRST}-b7ad6b7169203331-01` },
    });
    return engine;
  };
  const answer = {
    content: 'hi',
    toolCalls: [],
    usage: { promptTokens: 1, completionTokens: 1 },
    finishReason: 'stop' as const,
  };

  it('starts the step under the delivery when it belongs to the running turn’s trace', async () => {
    exporter.reset();
    const engine = await engineWith({ complete: async () => answer });
    const delivery = `00-${FIRST}-00f067aa0ba902b7-01`;
    await engine.step(ref, undefined, new AbortController().signal, { traceparent: delivery });
    const [step] = exporter.getFinishedSpans().filter((s) => s.name === 'session.step');
    expect(step?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(step?.attributes).toMatchObject({
      'agentledger.step.status': 'idle',
      'agentledger.step.count': 1,
    });
  });

  it('starts the step under the delivery when no turn trace is known (a first delivery)', () => {
    exporter.reset();
    createStepSpan(ref, `00-${FIRST}-00f067aa0ba902b7-01`, undefined).end(undefined);
    const [step] = exporter.getFinishedSpans().filter((s) => s.name === 'session.step');
    expect(step?.spanContext().traceId).toBe(FIRST);
    expect(step?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  });

  it('keeps its one span while the work stays in its trace or names none, and moves to another trace', () => {
    exporter.reset();
    const span = createStepSpan(ref, `00-${FIRST}-00f067aa0ba902b7-01`, `00-${FIRST}-0000000000000001-01`);
    span.follow(undefined);
    span.follow(`00-${FIRST}-0000000000000002-01`);
    expect(exporter.getFinishedSpans()).toEqual([]);
    span.follow(`00-${'b'.repeat(32)}-0000000000000003-01`);
    span.end(undefined);
    const steps = exporter.getFinishedSpans().filter((s) => s.name === 'session.step');
    expect(steps.map((s) => [s.spanContext().traceId, s.parentSpanContext?.spanId])).toEqual([
      [FIRST, '00f067aa0ba902b7'],
      ['b'.repeat(32), '0000000000000003'],
    ]);
  });

  it('records the model the provider answered with on the chat span', async () => {
    exporter.reset();
    const engine = await engineWith({ complete: async () => ({ ...answer, model: 'scripted-2026' }) });
    await engine.step(ref, undefined, new AbortController().signal);
    const [chat] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(chat?.attributes['gen_ai.response.model']).toBe('scripted-2026');
  });

  it('ends the step span with the error that escaped the step', async () => {
    exporter.reset();
    const engine = await engineWith({ complete: async () => answer });
    const boom = new Error('boom');
    const hooks = { aroundModelCall: () => Promise.reject(boom) };
    await expect(engine.step(ref, undefined, new AbortController().signal, { hooks })).rejects.toBe(boom);
    const [step] = exporter.getFinishedSpans().filter((s) => s.name === 'session.step');
    expect(step?.status).toMatchObject({ code: SpanStatusCode.ERROR });
  });

  it('names the model `unknown` when the agent has none of its own (the deployment’s default)', async () => {
    exporter.reset();
    const team = spec({ type: 'single', agents: [{ name: 'a' }] });
    const engine = await engineWith({ complete: async () => answer }, { team });
    await engine.step(ref, undefined, new AbortController().signal);
    const [chat] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(chat?.name).toBe('chat unknown');
    expect(chat?.attributes['gen_ai.request.model']).toBe('unknown');
  });

  it('names a tool call that stops for an approval the tool requires `approval_requested`', async () => {
    exporter.reset();
    // The registry requires the approval, not the team: the tool call itself asks for it.
    const refund = defineTool({
      name: 'refund',
      description: 'Refunds an order',
      parameters: z.object({}),
      idempotent: false,
      requiresApproval: true,
      execute: () => 'refunded',
    });
    const team = spec({ type: 'single', agents: [{ name: 'a', tools: ['refund'] }] });
    const model = createScriptedModelClient({
      script: [{ toolCalls: [{ name: 'refund', arguments: '{}' }] }],
    });
    const engine = await engineWith(model, { team, tools: createToolRegistry([refund]) });
    const outcome = await engine.step(ref, undefined, new AbortController().signal);
    expect(outcome.state?.status).toBe('awaiting_approval');
    const tools = exporter.getFinishedSpans().filter((s) => s.name === 'execute_tool refund');
    expect(tools.map((s) => s.attributes['agentledger.tool.outcome'])).toEqual(['approval_requested']);
    expect(tools[0]?.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  const call: ToolCallAction = {
    toolCallId: 't1.s1.m1.t0',
    idempotencyKey: 'tenant-a/s1:t1.s1.m1.t0',
    agent: 'a',
    name: 'calculator',
    arguments: '{}',
    approved: false,
  };
  const toolAttributes = {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'calculator',
    'gen_ai.tool.call.id': 't1.s1.m1.t0',
    'gen_ai.agent.name': 'a',
  };

  it('names a tool call that recorded nothing (no longer pending) `skipped` on its span', async () => {
    exporter.reset();
    expect(await traceToolCall(call, () => Promise.resolve(null))).toBeNull();
    const [tool] = exporter.getFinishedSpans();
    expect(tool?.name).toBe('execute_tool calculator');
    expect(tool?.attributes['agentledger.tool.outcome']).toBe('skipped');
  });

  it('traces a failed tool call as failed, its reason the error type', async () => {
    exporter.reset();
    const failed: SessionCommand = {
      type: 'RecordToolResult',
      data: {
        toolCallId: call.toolCallId,
        outcome: 'failed',
        reason: 'timeout',
        message: 'too slow',
        latencyMs: 5,
      },
      metadata: meta(),
    };
    expect(await traceToolCall(call, () => Promise.resolve(failed))).toBe(failed);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['execute_tool calculator']);
    expect(spans[0]?.attributes).toEqual({
      ...toolAttributes,
      'agentledger.tool.outcome': 'failed',
      'error.type': 'timeout',
    });
    expect(spans[0]?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'timeout' });
  });

  it('traces a completed tool call with its name, call id and agent, not failed', async () => {
    exporter.reset();
    const completed: SessionCommand = {
      type: 'RecordToolResult',
      data: { toolCallId: call.toolCallId, outcome: 'completed', result: '4', latencyMs: 5 },
      metadata: meta(),
    };
    await traceToolCall(call, () => Promise.resolve(completed));
    const [tool] = exporter.getFinishedSpans();
    expect(tool?.attributes).toEqual({ ...toolAttributes, 'agentledger.tool.outcome': 'completed' });
    expect(tool?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('traces a step as one `session.step` span naming its tenant, session, outcome and steps, not failed', async () => {
    exporter.reset();
    const engine = await engineWith({ complete: async () => answer });
    await engine.step(ref, undefined, new AbortController().signal);
    const steps = exporter.getFinishedSpans().filter((s) => s.name === 'session.step');
    expect(steps.map((s) => s.attributes)).toEqual([
      {
        'agentledger.tenant': 'tenant-a',
        'agentledger.session.id': 's1',
        'agentledger.step.status': 'idle',
        'agentledger.step.count': 1,
      },
    ]);
    expect(steps[0]?.status).toEqual({ code: SpanStatusCode.UNSET });
  });

  it('traces an append as `session.append` under the caller’s traceparent, stamping its own on the events', async () => {
    exporter.reset();
    const store = createInMemoryEventStore();
    const engine = createSessionEngine({ store, index: createInMemorySessionIndex(), partitions: 12 });
    const { events } = await engine.handle(startSession('s1'), {
      ...ref,
      metadata: { traceparent: `00-${FIRST}-b7ad6b7169203331-01` },
    });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['session.append']);
    expect(spans[0]?.attributes).toEqual({
      'agentledger.command': 'StartSession',
      'agentledger.session.id': 's1',
    });
    expect(spans[0]?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(events.map((e) => e.metadata.traceparent)).toEqual([
      `00-${FIRST}-${spans[0]?.spanContext().spanId}-01`,
    ]);
  });

  it.each([
    { provider: 'openai', system: 'openai' },
    { provider: 'azure_openai', system: 'azure.ai.openai' },
  ] as const)(
    'names a $provider model call’s provider `$system`, with its model, agent and endpoint',
    async ({ provider, system }) => {
      exporter.reset();
      const team = spec({
        type: 'single',
        agents: [{ name: 'a', model: { provider, model: 'gpt-test', endpoint: 'eu' } }],
      });
      const engine = await engineWith({ complete: async () => answer }, { team });
      await engine.step(ref, undefined, new AbortController().signal);
      const chats = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
      expect(chats.map((s) => s.name)).toEqual(['chat gpt-test']);
      expect(chats[0]?.attributes).toEqual({
        'gen_ai.operation.name': 'chat',
        'gen_ai.system': system,
        'gen_ai.provider.name': system,
        'gen_ai.request.model': 'gpt-test',
        'gen_ai.agent.name': 'a',
        'agentledger.model.endpoint': 'eu',
        'agentledger.model_call.id': expect.any(String),
        'agentledger.model_call.purpose': 'call_model',
        'gen_ai.usage.input_tokens': 1,
        'gen_ai.usage.output_tokens': 1,
        'gen_ai.response.finish_reasons': ['stop'],
      });
    },
  );

  it('traces a failed model call with its error type and whether it is retryable, as failed', async () => {
    exporter.reset();
    const model = createScriptedModelClient({
      script: [{ error: { type: 'invalid_request', message: 'bad', retryable: false } }],
    });
    const engine = await engineWith(model);
    await engine.step(ref, undefined, new AbortController().signal);
    const [chat] = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(chat?.attributes).toMatchObject({
      'error.type': 'invalid_request',
      'agentledger.retryable': false,
    });
    expect(chat?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'invalid_request' });
  });
});
