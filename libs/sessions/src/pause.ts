/**
 * Resolves after `ms`, at once when `signal` aborts, or when `news` settles, whichever comes
 * first: true for news. The timer and the listener are cleared either way.
 */
export const pause = (ms: number, signal: AbortSignal, news?: Promise<void>): Promise<boolean> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const aborted = (): void => done(false);
    function done(woken: boolean): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', aborted);
      resolve(woken);
    }
    signal.addEventListener('abort', aborted, { once: true });
    void news?.then(() => done(true));
  });
