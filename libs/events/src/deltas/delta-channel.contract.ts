import { afterEach, describe, expect, it } from 'vitest';
import type { DeltaChannel, SessionDelta } from './session-delta.ts';

/** A channel on a fresh topic (or a fresh in-process channel). */
export type DeltaChannelFixture = Readonly<{ channel: DeltaChannel; close: () => Promise<void> }>;

const delta = (sessionId: string, seq: number, text = `piece ${seq}`): SessionDelta => ({
  tenantId: 'tenant-a',
  sessionId,
  callId: 'call-1',
  turnId: 'turn-1',
  agent: 'writer',
  attempt: 0,
  seq,
  kind: 'text',
  text,
});

const eventually = async (what: string, probe: () => boolean, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** The DeltaChannel contract: every adapter passes it. */
export const deltaChannelContract = (name: string, open: () => Promise<DeltaChannelFixture>): void => {
  describe(`DeltaChannel contract: ${name}`, () => {
    const fixtures: DeltaChannelFixture[] = [];
    const fixture = async (): Promise<DeltaChannelFixture> => {
      const opened = await open();
      fixtures.push(opened);
      return opened;
    };
    afterEach(async () => {
      await Promise.all(fixtures.splice(0).map((f) => f.close()));
    });

    it('hands every subscriber the deltas of a session in the order they were published', async () => {
      const { channel } = await fixture();
      const first: SessionDelta[] = [];
      const second: SessionDelta[] = [];
      await channel.subscribe((d) => first.push(d));
      await channel.subscribe((d) => second.push(d));
      const sent = Array.from({ length: 20 }, (_, i) => delta(i % 2 === 0 ? 's-even' : 's-odd', i));
      for (let i = 0; i < sent.length; i += 3) await channel.publish(sent.slice(i, i + 3));
      await eventually('both subscribers got all 20', () => first.length >= 20 && second.length >= 20);
      for (const got of [first, second]) {
        expect(got.filter((d) => d.sessionId === 's-even')).toEqual(
          sent.filter((d) => d.sessionId === 's-even'),
        );
        expect(got.filter((d) => d.sessionId === 's-odd')).toEqual(
          sent.filter((d) => d.sessionId === 's-odd'),
        );
      }
    });

    it('starts a subscriber at "now": what was published before it subscribed never reaches it', async () => {
      const { channel } = await fixture();
      await channel.publish([delta('s-1', 0, 'before')]);
      const got: SessionDelta[] = [];
      await channel.subscribe((d) => got.push(d));
      await channel.publish([delta('s-1', 1, 'after')]);
      await eventually('the delta published after subscribing', () => got.some((d) => d.text === 'after'));
      expect(got.map((d) => d.text)).toEqual(['after']);
    });

    it('stops handing deltas to a stopped subscriber', async () => {
      const { channel } = await fixture();
      const stopped: SessionDelta[] = [];
      const live: SessionDelta[] = [];
      const subscription = await channel.subscribe((d) => stopped.push(d));
      await channel.subscribe((d) => live.push(d));
      await channel.publish([delta('s-1', 0, 'one')]);
      await eventually('both got the first delta', () => stopped.length === 1 && live.length === 1);
      await subscription.stop();
      await channel.publish([delta('s-1', 1, 'two')]);
      await eventually('the live subscriber got the second delta', () => live.length === 2);
      expect(stopped.map((d) => d.text)).toEqual(['one']);
    });
  });
};
