import { afterEach, describe, expect, it, vi } from 'vitest';
import { processShutdown, type ShutdownStage } from './process-shutdown.ts';

const recorder = () => {
  const lines: string[] = [];
  const exits: number[] = [];
  return {
    lines,
    exits,
    info: (message: string) => void lines.push(`info ${message}`),
    error: (message: string, failure?: unknown) =>
      void lines.push(`error ${message}${failure === undefined ? '' : ` (${String(failure)})`}`),
    exit: (code: number) => void exits.push(code),
  };
};

describe('process shutdown', () => {
  afterEach(() => void vi.useRealTimers());

  it('runs the stages in order once, however many signals come, then exits 0', async () => {
    const out = recorder();
    const ran: string[] = [];
    const stage = (name: string): ShutdownStage => ({ name, run: async () => void ran.push(name) });
    const shutdown = processShutdown({ stages: [stage('http'), stage('store')], deadlineMs: 1_000, ...out });
    shutdown('SIGTERM');
    shutdown('SIGINT');
    await vi.waitFor(() => expect(out.exits).toEqual([0]));
    expect(ran).toEqual(['http', 'store']);
    expect(out.lines).toEqual(['info SIGTERM: shutting down']);
  });

  it('exits 1 naming the stage that failed, and runs none after it', async () => {
    const out = recorder();
    const ran: string[] = [];
    const shutdown = processShutdown({
      stages: [
        { name: 'runtime', run: () => Promise.reject(new Error('lease table gone')) },
        { name: 'store', run: async () => void ran.push('store') },
      ],
      deadlineMs: 1_000,
      ...out,
    });
    shutdown('SIGTERM');
    await vi.waitFor(() => expect(out.exits).toEqual([1]));
    expect(out.lines.at(-1)).toBe('error shutdown failed in runtime (Error: lease table gone)');
    expect(ran).toEqual([]);
  });

  it('exits 1 at the deadline naming the stage that hangs, and not again when it ends', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const out = recorder();
    let finish: () => void = () => undefined;
    const shutdown = processShutdown({
      stages: [
        { name: 'http', run: async () => undefined },
        { name: 'consumer group', run: () => new Promise<void>((resolve) => (finish = resolve)) },
      ],
      deadlineMs: 5_000,
      ...out,
    });
    shutdown('SIGTERM');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(out.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(out.exits).toEqual([1]);
    expect(out.lines.at(-1)).toBe(
      'error shutdown did not finish within 5000 ms (still in: consumer group); exiting',
    );
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(out.exits).toEqual([1]);
  });
});
