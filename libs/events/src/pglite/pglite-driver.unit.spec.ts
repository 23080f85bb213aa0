import type { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { createPgliteDriver } from './pglite-event-store.ts';

/** Answers at once, as PGlite does (its statements run synchronously in WASM). */
const instantPglite = (): PGlite => ({ query: async () => ({ rows: [] }) }) as unknown as PGlite;

describe('PGlite driver', () => {
  it.each(['query', 'queryArrays'] as const)(
    'lets the event loop turn before each statement (%s): a stream of statements starves no timer or socket',
    async (method) => {
      const driver = createPgliteDriver(instantPglite(), async () => undefined);
      let turned = false;
      setImmediate(() => (turned = true));
      const seenAfter: boolean[] = [];
      for (let i = 0; i < 5; i += 1) {
        await driver[method]('select 1', []);
        seenAfter.push(turned);
      }
      expect(seenAfter).toEqual([true, true, true, true, true]);
    },
  );
});
