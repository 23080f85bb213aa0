import { rejection } from '@agentledger/testing';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from './envelope.ts';
import { Unavailable } from './errors.ts';
import { createInMemoryEventStore } from './memory/index.ts';
import { readLogToHead } from './read-log.ts';
import type { EventStore, ReadAllOptions } from './store.ts';

const positionsOf = async (pages: AsyncIterable<readonly EventEnvelope[]>): Promise<number[][]> => {
  const out: number[][] = [];
  for await (const page of pages) out.push(page.map((e) => e.globalPosition));
  return out;
};

/**
 * A log of `count` events (tenants t and u in turn) whose reads return nothing for the first
 * `heldBack` calls (an older transaction still running); `reads` records each call's options.
 */
const heldBackLog = async (count: number, heldBack: number, head = count) => {
  const memory = createInMemoryEventStore();
  for (let i = 1; i <= count; i += 1)
    await memory.append(`s-${i}`, [{ type: 'E', data: {} }], {
      tenantId: i % 2 === 1 ? 't' : 'u',
      expectedVersion: 'no_stream',
    });
  const reads: ReadAllOptions[] = [];
  const heads: { tenantId?: string }[] = [];
  const store: Pick<EventStore, 'readAll' | 'committedHead'> = {
    committedHead: async (options = {}) => {
      heads.push(options);
      return head;
    },
    readAll: async (options = {}) => {
      reads.push(options);
      return reads.length <= heldBack ? [] : memory.readAll(options);
    },
  };
  return { store, reads, heads };
};

describe('readLogToHead', () => {
  it('reads every page up to the committed head, in global order', async () => {
    const store = createInMemoryEventStore();
    for (const name of ['a', 'b', 'c'])
      await store.append(
        `session-t/${name}`,
        [
          { type: 'A', data: {} },
          { type: 'B', data: {} },
        ],
        {
          tenantId: 't',
          expectedVersion: 'no_stream',
        },
      );
    expect(await positionsOf(readLogToHead(store, { pageSize: 4 }))).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
  });

  it('reads again while reads are held back, rather than stop at the first empty page', async () => {
    const { store, reads } = await heldBackLog(5, 3);
    expect(await positionsOf(readLogToHead(store, { pageSize: 2 }))).toEqual([[1, 2], [3, 4], [5]]);
    expect(reads.map((r) => r.after)).toEqual([0, 0, 0, 0, 2, 4]);
  });

  it('leaves out what committed after the start: the head is taken once', async () => {
    const { store } = await heldBackLog(6, 0, 4);
    expect(await positionsOf(readLogToHead(store, { pageSize: 3 }))).toEqual([[1, 2, 3], [4]]);
  });

  it("reads one tenant's events up to that tenant's head", async () => {
    const { store, reads, heads } = await heldBackLog(6, 0, 5);
    expect(await positionsOf(readLogToHead(store, { tenantId: 't' }))).toEqual([[1, 3, 5]]);
    expect(heads).toEqual([{ tenantId: 't' }]);
    expect(reads).toEqual([{ after: 0, limit: 10_000, tenantId: 't' }]);
  });

  it('reads nothing from an empty log', async () => {
    const { store, reads } = await heldBackLog(0, 0);
    expect(await positionsOf(readLogToHead(store))).toEqual([]);
    expect(reads).toEqual([]);
  });

  it('gives up with Unavailable when reads stay held back, naming where', async () => {
    const { store } = await heldBackLog(5, Infinity);
    const error = await rejection(positionsOf(readLogToHead(store, { heldBackTimeoutMs: 50 })));
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Error).message).toBe(
      'the log is held back after position 0 (committed up to 5) by a transaction that has been running for over 0.05 s; try again when it ends',
    );
  });
});
