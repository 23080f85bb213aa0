import { Writable } from 'node:stream';
import { createLogContext, createRootLogger } from '@agentledger/events/observability';
import { describe, expect, it } from 'vitest';
import { parseLogLine } from './supervisor.ts';

/** Lines as the apps write them: their own root logger, JSON. */
const appLines = (write: (logger: ReturnType<typeof createRootLogger>) => void): string[] => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createRootLogger({
    level: 'debug',
    format: 'json',
    content: false,
    base: { app: 'orchestrator', replica: 'replica-a' },
    secrets: [],
    context: createLogContext(),
    destination,
  });
  write(logger);
  return lines;
};

describe("the chaos run's summary of process logs", () => {
  it("counts an app's warnings and errors by their text, numbers and ids folded", () => {
    const lines = appLines((logger) => {
      logger.info('relay active');
      logger.warn({ backoff: 200 }, 'relay step failed; retrying after 200 ms');
      logger.error(
        { sessionId: 'a3f1c2de-0b4e-4c11-9d2a-5e6f7a8b9c0d' },
        'step a3f1c2de-0b4e-4c11-9d2a-5e6f7a8b9c0d failed',
      );
    });
    expect(lines.map(parseLogLine)).toEqual([
      undefined,
      'warn: relay step failed; retrying after N ms',
      'error: step N failed',
    ]);
  });

  it('reads a `message` field too and ignores lines that are not JSON', () => {
    expect(parseLogLine('{"level":"error","message":"broker down"}')).toBe('error: broker down');
    expect(parseLogLine('Kafka starting…')).toBeUndefined();
    expect(parseLogLine('{not json')).toBeUndefined();
  });
});
