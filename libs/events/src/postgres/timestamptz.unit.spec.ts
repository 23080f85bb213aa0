import { describe, expect, it } from 'vitest';
import { timestamptzToIso } from './timestamptz.ts';

describe('timestamptzToIso', () => {
  it.each([
    ['2026-01-02 03:04:05+00', '2026-01-02T03:04:05.000Z'],
    ['2026-01-02 03:04:05.6+00', '2026-01-02T03:04:05.600Z'],
    ['2026-01-02 03:04:05.678+00', '2026-01-02T03:04:05.678Z'],
    ['2026-01-02 04:04:05.678+01', '2026-01-02T03:04:05.678Z'],
    ['2026-01-02 08:34:05.678+05:30', '2026-01-02T03:04:05.678Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(timestamptzToIso(text)).toBe(iso);
  });

  it('accepts a Date', () => {
    expect(timestamptzToIso(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05.678Z');
  });
});
