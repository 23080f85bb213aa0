import { describe, expect, it } from 'vitest';
import { chunkBySize } from './kafka-event-bus.ts';

describe('chunkBySize', () => {
  const message = (bytes: number) => ({ key: 'k', value: 'x'.repeat(bytes), headers: {} });

  it('keeps order and cuts before a message that would overflow the chunk', () => {
    const messages = [message(300), message(300), message(300), message(2_000), message(10)];
    const chunks = chunkBySize(messages, 1_000);
    expect(chunks.map((chunk) => chunk.length)).toEqual([2, 1, 1, 1]);
    expect(chunks.flat()).toEqual(messages);
  });
});
