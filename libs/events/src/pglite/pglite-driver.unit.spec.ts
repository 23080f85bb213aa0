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

  it('runs statements that arrive together one per turn of the loop, in arrival order', async () => {
    // A counter of loop turns (one setImmediate each), read by every statement as it starts.
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns += 1;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const started: { text: string; turn: number }[] = [];
    const recording = {
      query: async (text: string) => {
        started.push({ text, turn: turns });
        return { rows: [] };
      },
    } as unknown as PGlite;
    const driver = createPgliteDriver(recording, async () => undefined);
    const texts = Array.from({ length: 8 }, (_, index) => `select ${index}`);
    await Promise.all(
      texts.map((text, index) => (index % 2 === 0 ? driver.query(text, []) : driver.queryArrays(text, []))),
    );
    ticking = false;
    expect(started.map((s) => s.text)).toEqual(texts);
    // Queued all at once, yet no two started in the same turn: sockets are read between them.
    expect(new Set(started.map((s) => s.turn)).size).toBe(texts.length);
  });
});
