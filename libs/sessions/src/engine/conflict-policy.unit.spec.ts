import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_CONFLICT_RETRIES, withConflictRetry } from './conflict-policy.ts';

const conflict = new Error('conflict');
const isConflict = (error: unknown) => error === conflict;

describe('conflict policy', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('retries a conflict at most MAX_CONFLICT_RETRIES times, then lets it escape', async () => {
    vi.useFakeTimers();
    const attempt = vi.fn(() => Promise.reject(conflict));
    const failed = withConflictRetry(attempt, isConflict).catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    expect(await failed).toBe(conflict);
    expect(attempt).toHaveBeenCalledTimes(MAX_CONFLICT_RETRIES + 1);
  });

  it('lets an error that is no conflict escape from the first attempt', async () => {
    const other = new Error('other');
    const attempt = vi.fn(() => Promise.reject(other));
    await expect(withConflictRetry(attempt, isConflict)).rejects.toBe(other);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('returns the first attempt that succeeds', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const attempt = () => (++calls < 3 ? Promise.reject(conflict) : Promise.resolve(calls));
    const result = withConflictRetry(attempt, isConflict);
    await vi.runAllTimersAsync();
    expect(await result).toBe(3);
  });

  it('waits a random share of 2^attempt ms before each retry, at most 100 ms', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const attempt = vi.fn(() => Promise.reject(conflict));
    const failed = withConflictRetry(attempt, isConflict).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    expect(attempt).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1 + 2 + 4 + 8 + 16 + 32 + 64 - 1);
    expect(attempt).toHaveBeenCalledTimes(7);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempt).toHaveBeenCalledTimes(8);
    await vi.advanceTimersByTimeAsync(99); // 2^7 is capped at 100
    expect(attempt).toHaveBeenCalledTimes(8);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempt).toHaveBeenCalledTimes(9);
    await vi.runAllTimersAsync();
    expect(await failed).toBe(conflict);
  });
});
