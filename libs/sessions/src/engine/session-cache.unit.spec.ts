import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '@agentledger/events';
import { createInMemorySessionIndex } from '../memory/memory-session-index.ts';
import { postMessage, recordingCalls, startSession } from '../testing/fixtures.ts';
import { createSessionCache, estimatedBytes } from './session-cache.ts';
import { createSessionEngine } from './session-engine.ts';

describe('session cache', () => {
  it('refuses a negative budget, naming it', () => {
    expect(() => createSessionCache(-1)).toThrow(new RangeError('maxBytes must be >= 0, got -1'));
  });

  it('evicts the least recently used entries until the bytes fit, whatever their count', () => {
    const cache = createSessionCache<string>(100);
    cache.set('a', 'A', 40);
    cache.set('b', 'B', 40);
    expect(cache.get('a')?.value).toBe('A'); // a is now the most recently used
    cache.set('c', 'C', 40);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.usage()).toEqual({ bytes: 80, entries: 2 });
    cache.set('small-1', 's', 5);
    cache.set('small-2', 's', 5);
    cache.set('small-3', 's', 5);
    expect(cache.usage()).toEqual({ bytes: 95, entries: 5 });
  });

  it('does not keep an entry larger than the whole budget, and re-setting a key replaces its size', () => {
    const cache = createSessionCache<string>(100);
    cache.set('a', 'A', 60);
    cache.set('huge', 'H', 101);
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('a')?.value).toBe('A');
    cache.set('a', 'A2', 10);
    expect(cache.usage()).toEqual({ bytes: 10, entries: 1 });
    expect(cache.delete('a')).toBe(true);
    expect(cache.usage()).toEqual({ bytes: 0, entries: 0 });
  });

  it('estimates a value by its JSON text, two bytes a character', () => {
    expect(estimatedBytes({ a: 'xyz' })).toBe(2 * '{"a":"xyz"}'.length);
  });

  it('estimates a value without JSON text (undefined) at zero bytes', () => {
    expect(estimatedBytes(undefined)).toBe(0);
  });

  it.each([
    { what: 'keeps an entry exactly the size of the whole budget', sizes: [100] },
    { what: 'evicts nothing while the entries fill the budget exactly', sizes: [40, 60] },
  ])('$what', ({ sizes }) => {
    const cache = createSessionCache<string>(100);
    sizes.forEach((size, i) => cache.set(`k${i}`, `V${i}`, size));
    expect(cache.get('k0')?.value).toBe('V0');
    expect(cache.usage()).toEqual({ bytes: 100, entries: sizes.length });
  });

  it('says it deleted nothing for a key it does not hold, leaving the others', () => {
    const cache = createSessionCache<string>(100);
    cache.set('a', 'A', 10);
    expect(cache.delete('missing')).toBe(false);
    expect(cache.usage()).toEqual({ bytes: 10, entries: 1 });
  });
});

describe('the engine keeps its cache within its byte budget', () => {
  const run = async (cacheMaxBytes: number) => {
    // Full folds (cache misses): `aggregate` runs only for a session not in the cache.
    const { store, calls } = recordingCalls(createInMemoryEventStore(), 'aggregate');
    const folds = () => calls.length;
    const index = createInMemorySessionIndex();
    const engine = createSessionEngine({ store, index, partitions: 12, cacheMaxBytes });
    const ids = ['s1', 's2', 's3'];
    for (const id of ids) await engine.handle(startSession(id, 't'), { tenantId: 't', sessionId: id });
    const before = folds();
    // A long message per session: each one alone is about 20 KB in the cache.
    for (const id of ids)
      await engine.handle(postMessage(`m-${id}`, 'x'.repeat(10_000)), { tenantId: 't', sessionId: id });
    for (const id of ids) await engine.load('t', id);
    return folds() - before;
  };

  it('serves every session from memory when the budget holds them all', async () => {
    expect(await run(1024 * 1024)).toBe(0);
  });

  it('folds again from the store when the budget holds only one of them', async () => {
    expect(await run(30_000)).toBeGreaterThanOrEqual(3);
  });
});
