import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootLogger, portLogger, urlPassword, wantsPretty } from './create-logger.ts';
import { createLogContext } from './log-context.ts';

const capture = () => {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { lines, raw, destination };
};

const loggerWith = (content: boolean, secrets: readonly string[] = []) => {
  const out = capture();
  const context = createLogContext();
  const logger = createRootLogger({
    level: 'debug',
    format: 'json',
    content,
    base: { app: 'test', replica: 'r-1' },
    secrets,
    context,
    destination: out.destination,
  });
  return { ...out, context, logger };
};

describe('the root logger', () => {
  it('puts the work context on every line written inside it, and only there', async () => {
    const { lines, context, logger } = loggerWith(false);
    await context.run({ tenant: 'acme', sessionId: 's-1' }, async () => {
      await Promise.resolve();
      context.run({ agent: 'clerk', callId: 't1.s1.m1' }, () => logger.info('model call completed'));
      logger.info('step done');
    });
    logger.info('outside');
    expect(
      lines.map(({ msg, tenant, sessionId, agent, callId, app, replica }) => ({
        msg,
        tenant,
        sessionId,
        agent,
        callId,
        app,
        replica,
      })),
    ).toEqual([
      {
        msg: 'model call completed',
        tenant: 'acme',
        sessionId: 's-1',
        agent: 'clerk',
        callId: 't1.s1.m1',
        app: 'test',
        replica: 'r-1',
      },
      {
        msg: 'step done',
        tenant: 'acme',
        sessionId: 's-1',
        agent: undefined,
        callId: undefined,
        app: 'test',
        replica: 'r-1',
      },
      {
        msg: 'outside',
        tenant: undefined,
        sessionId: undefined,
        agent: undefined,
        callId: undefined,
        app: 'test',
        replica: 'r-1',
      },
    ]);
    expect(lines[0]).toMatchObject({ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  it('redacts credentials at any depth, and message content unless content logging is on', () => {
    const fields = {
      headers: { authorization: 'Bearer k-123456', 'x-api-key': 'k-654321' },
      request: { messages: [{ role: 'user', content: 'my card is 4242' }], apiKey: 'sk-abcdef' },
      toolCalls: [{ name: 'calculator', arguments: '{"a":1}' }],
      tool: 'calculator',
    };
    const off = loggerWith(false);
    portLogger(off.logger).info('call', fields);
    expect(off.lines[0]).toMatchObject({
      headers: { authorization: '[Redacted]', 'x-api-key': '[Redacted]' },
      request: { messages: '[Redacted]', apiKey: '[Redacted]' },
      toolCalls: [{ name: 'calculator', arguments: '[Redacted]' }],
      tool: 'calculator',
    });

    const on = loggerWith(true);
    portLogger(on.logger).info('call', fields);
    expect(on.lines[0]).toMatchObject({
      headers: { authorization: '[Redacted]', 'x-api-key': '[Redacted]' },
      request: { messages: [{ role: 'user', content: 'my card is 4242' }], apiKey: '[Redacted]' },
      toolCalls: [{ name: 'calculator', arguments: '{"a":1}' }],
    });
  });

  it("scrubs the operator's secret values wherever they appear, messages and errors included", () => {
    const { raw, logger } = loggerWith(true, ['sk-live-0123456789', 'pg-password']);
    logger.error({ err: new Error('401 from https://x with key sk-live-0123456789') }, 'model call failed');
    logger.warn('connecting with pg-password failed');
    expect(raw.join('\n')).not.toMatch(/sk-live-0123456789|pg-password/);
    expect(raw.join('\n')).toContain('[Redacted]');
  });

  it('reads the password of a connection URL (and nothing from one without)', () => {
    expect(urlPassword('postgres://app:s%40cret@db:5432/x')).toEqual(['s@cret']);
    expect(urlPassword('postgres://postgres@127.0.0.1:5432/x')).toEqual([]);
    expect(urlPassword(undefined)).toEqual([]);
  });

  it('is pretty only on request or on a terminal, and only when pino-pretty is installed', () => {
    const installed = () => true;
    const missing = () => false;
    expect(wantsPretty('auto', true, installed)).toBe(true);
    expect(wantsPretty('auto', false, installed)).toBe(false);
    expect(wantsPretty('json', true, installed)).toBe(false);
    expect(wantsPretty('pretty', false, installed)).toBe(true);
    expect(wantsPretty('pretty', true, missing)).toBe(false);
    expect(wantsPretty('auto', true, missing)).toBe(false);
  });

  it('reads a late context at each line (the tenant of a request once it is authenticated)', () => {
    const { lines, context, logger } = loggerWith(false);
    const request: { tenant?: string } = {};
    context.run(
      () => ({ tenant: request.tenant, sessionId: 's-9' }),
      () => {
        logger.info('before auth');
        request.tenant = 'acme';
        context.run({ callId: 'c-1' }, () => logger.info('after auth'));
      },
    );
    expect(lines.map(({ msg, tenant, sessionId, callId }) => ({ msg, tenant, sessionId, callId }))).toEqual([
      { msg: 'before auth', tenant: undefined, sessionId: 's-9', callId: undefined },
      { msg: 'after auth', tenant: 'acme', sessionId: 's-9', callId: 'c-1' },
    ]);
  });
});

describe('the root logger under a trace', () => {
  const provider = new TracerProvider();
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    trace.disable();
    context.disable();
    await provider.shutdown();
  });

  it('writes the active span’s trace id on every line written inside it, and none outside', async () => {
    const { lines, logger } = loggerWith(false);
    const span = trace.getTracer('test').startSpan('turn');
    await context.with(trace.setSpan(context.active(), span), async () => {
      logger.info('inside');
      await Promise.resolve();
      logger.info('still inside');
    });
    span.end();
    logger.info('outside');
    const traceId = span.spanContext().traceId;
    expect(lines.map((line) => line.traceId)).toEqual([traceId, traceId, undefined]);
  });
});
