import { describe, expect, it } from 'vitest';
import { stopOnAbort } from './harness.ts';

describe('stopOnAbort (a chaos run cut short stops its processes)', () => {
  const counted = () => {
    const calls: string[] = [];
    return { calls, stop: async () => void calls.push('stop'), log: (line: string) => void calls.push(line) };
  };

  it('stops once when the signal aborts, and not after it was released', () => {
    const run = counted();
    const controller = new AbortController();
    stopOnAbort(controller.signal, run.stop, run.log);
    controller.abort();
    controller.abort();
    expect(run.calls).toEqual(['aborted: stopping every process of the run', 'stop']);

    const released = counted();
    const other = new AbortController();
    stopOnAbort(other.signal, released.stop, released.log)();
    other.abort();
    expect(released.calls).toEqual([]);
  });

  it('stops at once when the signal had aborted already, and does nothing without one', () => {
    const run = counted();
    stopOnAbort(AbortSignal.abort(), run.stop, run.log);
    expect(run.calls).toEqual(['aborted: stopping every process of the run', 'stop']);
    const none = counted();
    stopOnAbort(undefined, none.stop, none.log)();
    expect(none.calls).toEqual([]);
  });
});
