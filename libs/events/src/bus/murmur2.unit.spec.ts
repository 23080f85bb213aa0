import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { partitionForKey } from './murmur2.ts';

describe('partitionForKey', () => {
  const kafkajs = Partitioners.DefaultPartitioner();
  const metadata = (n: number) =>
    Array.from({ length: n }, (_, partitionId) => ({
      partitionId,
      partitionErrorCode: 0,
      leader: 1,
      replicas: [1],
      isr: [1],
    }));

  it('picks the partition kafkajs DefaultPartitioner (Java murmur2) picks', () => {
    const keys = [
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'abcde',
      'session-1',
      'é€😀',
      ...Array.from({ length: 500 }, (_, i) => `s-${i * 7919}`),
    ];
    for (const partitions of [1, 3, 12, 64]) {
      for (const key of keys) {
        const expected = kafkajs({
          topic: 't',
          partitionMetadata: metadata(partitions),
          message: { key, value: null },
        });
        expect(partitionForKey(key, partitions), `${key} over ${partitions}`).toBe(expected);
      }
    }
  });
});
