import { afterEach, describe, expect, it, vi } from 'vitest';
import { Unavailable } from '@agentledger/events';
import {
  MAX_CONFLICT_RETRIES,
  UNAVAILABLE_RETRY_MS,
  withConflictRetry,
  withUnavailableRetry,
} from './conflict-policy.ts';

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

describe('unavailable policy', () => {
  const down = new Unavailable('the database is unavailable; retry later');
  const live = () => new AbortController().signal;

  afterEach(() => {
    vi.useRealTimers();
  });

  it('tries again after 50 ms, doubling to at most 2 s, and returns the first try that succeeds', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const attempt = vi.fn(() => (++calls < 8 ? Promise.reject(down) : Promise.resolve('recorded')));
    const result = withUnavailableRetry(attempt, live());
    await vi.advanceTimersByTimeAsync(0);
    expect(attempt).toHaveBeenCalledTimes(1);
    for (const [wait, tries] of [
      [50, 2],
      [100, 3],
      [200, 4],
      [400, 5],
      [800, 6],
      [1_600, 7],
      [2_000, 8], // 3,200 is capped at 2 s
    ] as const) {
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(attempt).toHaveBeenCalledTimes(tries - 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(attempt).toHaveBeenCalledTimes(tries);
    }
    expect(await result).toBe('recorded');
  });

  it('lets the last Unavailable escape once the next wait would pass the budget', async () => {
    vi.useFakeTimers();
    const attempt = vi.fn(() => Promise.reject(down));
    const failed = withUnavailableRetry(attempt, live()).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(UNAVAILABLE_RETRY_MS);
    expect(await failed).toBe(down);
    // 50 … 1,600 ms (3,150 ms), then every 2 s while the next try is due within the budget.
    expect(attempt).toHaveBeenCalledTimes(7 + Math.floor((UNAVAILABLE_RETRY_MS - 3_150) / 2_000));
  });

  it('makes a try that falls exactly at the end of the budget', async () => {
    vi.useFakeTimers();
    const attempt = vi.fn(() => Promise.reject(down));
    const failed = withUnavailableRetry(attempt, live(), 150).catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    expect(await failed).toBe(down);
    // Tries at 0, 50 and 150 ms: the last is due at the deadline, not past it.
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it('stops at once when the signal aborts during a wait', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const attempt = vi.fn(() => Promise.reject(down));
    const failed = withUnavailableRetry(attempt, controller.signal).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(50 + 100);
    expect(attempt).toHaveBeenCalledTimes(3);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(await failed).toBe(down);
    await vi.runAllTimersAsync();
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it('does not try again when the signal is already aborted', async () => {
    const attempt = vi.fn(() => Promise.reject(down));
    await expect(withUnavailableRetry(attempt, AbortSignal.abort())).rejects.toBe(down);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('lets an error that is not Unavailable escape from the first try', async () => {
    const conflict = new Error('conflict');
    const attempt = vi.fn(() => Promise.reject(conflict));
    await expect(withUnavailableRetry(attempt, live())).rejects.toBe(conflict);
    expect(attempt).toHaveBeenCalledTimes(1);
  });
});
