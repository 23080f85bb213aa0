import { describe, expect, it } from 'vitest';
import type { EventEnvelope, SessionDelta } from '@agentledger/events';
import { withDeltas, type StreamItem } from './follow-stream.ts';

const event = (version: number) => ({ version, type: 'E' }) as unknown as EventEnvelope;
const delta = (seq: number) => ({ seq, kind: 'text', text: String(seq) }) as unknown as SessionDelta;

describe('withDeltas', () => {
  it('yields deltas as they arrive while the events wait, in order, and stops watching when the reader stops', async () => {
    let release: () => void = () => undefined;
    const more = new Promise<void>((resolve) => (release = resolve));
    async function* events(): AsyncGenerator<EventEnvelope> {
      yield event(1);
      await more;
      yield event(2);
    }
    let handler: ((d: SessionDelta) => void) | undefined;
    let watching = false;
    const items = withDeltas(events(), (h) => {
      handler = h;
      watching = true;
      return () => (watching = false);
    });
    const seen: StreamItem[] = [];
    for await (const item of items) {
      seen.push(item);
      if (item.kind === 'event' && item.event.version === 1) {
        handler!(delta(0));
        handler!(delta(1));
      }
      if (item.kind === 'delta' && item.delta.seq === 1) release();
      if (item.kind === 'event' && item.event.version === 2) break;
    }
    expect(seen.map((i) => (i.kind === 'event' ? `e${i.event.version}` : `d${i.delta.seq}`))).toEqual([
      'e1',
      'd0',
      'd1',
      'e2',
    ]);
    expect(watching).toBe(false);
  });
});
