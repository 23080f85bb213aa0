import { describe, expect, it } from 'vitest';
import { parseTurnsArgs } from './turns.bench.ts';

describe('npm run bench -- turns: arguments', () => {
  it('runs the two throughput shapes and the single-session latency shape by default', () => {
    expect(parseTurnsArgs([])).toEqual({
      scenarios: ['a', 'b', 'c'],
      shapes: [
        { sessions: 50, turns: 20 },
        { sessions: 200, turns: 10 },
        { sessions: 1, turns: 100 },
      ],
      rounds: 1,
      kafkaClient: 'kafkajs',
      cpuProf: false,
    });
  });

  it('runs one shape when asked, and names a bad value', () => {
    expect(parseTurnsArgs(['--scenario', 'b', '--sessions', '1', '--turns', '50'])).toMatchObject({
      scenarios: ['b'],
      shapes: [{ sessions: 1, turns: 50 }],
    });
    expect(() => parseTurnsArgs(['--sessions', 'none'])).toThrow(/--sessions: expected a positive integer/);
    expect(() => parseTurnsArgs(['--scenario', 'd'])).toThrow(/--scenario: unknown "d"/);
  });

  it("repeats the shapes in rounds and picks b's Kafka client when asked, and names a bad value", () => {
    expect(parseTurnsArgs(['--rounds', '3', '--kafka-client', 'platformatic'])).toMatchObject({
      rounds: 3,
      kafkaClient: 'platformatic',
    });
    expect(() => parseTurnsArgs(['--rounds', '0'])).toThrow(/--rounds: expected a positive integer, got "0"/);
    expect(() => parseTurnsArgs(['--kafka-client', 'rdkafka'])).toThrow(
      /--kafka-client: kafkajs or platformatic, got "rdkafka"/,
    );
  });
});
