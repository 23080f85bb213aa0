import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createRootLogger } from './create-logger.ts';
import { createLogContext } from './log-context.ts';
import { nestLogger } from './nest-logger.ts';

describe("Nest's logger on pino", () => {
  it('writes JSON lines with the Nest context, the stack of errors, and start-up chatter at debug', () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const root = createRootLogger({
      level: 'info',
      format: 'json',
      content: false,
      base: { app: 'gateway' },
      secrets: [],
      context: createLogContext(),
      destination,
    });
    const logger = nestLogger(root);
    logger.log('Mapped {/v1/sessions, POST} route', 'RouterExplorer');
    logger.log('gRPC listening on 127.0.0.1:50051', 'Gateway');
    logger.error('POST /v1/sessions failed', 'Error: boom\n    at x', 'Gateway');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'gRPC listening on 127.0.0.1:50051',
        nestContext: 'Gateway',
      }),
      expect.objectContaining({
        level: 'error',
        msg: 'POST /v1/sessions failed',
        nestContext: 'Gateway',
        stack: 'Error: boom\n    at x',
      }),
    ]);
  });
});
