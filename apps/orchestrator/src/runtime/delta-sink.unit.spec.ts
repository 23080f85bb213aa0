import { describe, expect, it } from 'vitest';
import { createInProcessDeltaChannel, type DeltaChannel, type SessionDelta } from '@agentledger/events';
import { quietLogger } from '@agentledger/events/bus';
import { createDeltaSink } from './delta-sink.ts';

const delta = (seq: number): SessionDelta => ({
  tenantId: 't',
  sessionId: 's',
  callId: 'c',
  turnId: 'turn',
  agent: 'a',
  attempt: 0,
  seq,
  kind: 'text',
  text: String(seq),
});

describe('delta sink', () => {
  it('publishes in order, batching what arrives while a send is in flight; flush waits for all', async () => {
    const sends: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const channel: DeltaChannel = {
      ...createInProcessDeltaChannel(),
      publish: async (deltas) => {
        sends.push(deltas.map((d) => d.seq));
        if (sends.length === 1) await gate;
      },
    };
    const sink = createDeltaSink(channel, quietLogger);
    sink.publish(delta(0));
    sink.publish(delta(1));
    sink.publish(delta(2));
    const flushed = sink.flush();
    release();
    await flushed;
    expect(sends.flat()).toEqual([0, 1, 2]);
    expect(sends.length).toBeLessThanOrEqual(2);
  });

  it('drops a failed send and carries on (a call never fails for its deltas)', async () => {
    const sent: number[] = [];
    const channel: DeltaChannel = {
      ...createInProcessDeltaChannel(),
      publish: async (deltas) => {
        if (deltas.some((d) => d.seq === 0)) throw new Error('broker down');
        sent.push(...deltas.map((d) => d.seq));
      },
    };
    const sink = createDeltaSink(channel, quietLogger);
    sink.publish(delta(0));
    await sink.flush();
    sink.publish(delta(1));
    await sink.flush();
    expect(sent).toEqual([1]);
  });

  it('stops waiting in flush after its timeout when the broker does not answer', async () => {
    const channel: DeltaChannel = {
      ...createInProcessDeltaChannel(),
      publish: () => new Promise<void>(() => undefined),
    };
    const sink = createDeltaSink(channel, quietLogger, 50);
    sink.publish(delta(0));
    await expect(sink.flush()).resolves.toBeUndefined();
  });
});
