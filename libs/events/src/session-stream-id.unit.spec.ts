import { describe, expect, it } from 'vitest';
import { partitionKeyOf } from './bus.ts';
import { parseSessionStreamId, sessionKeyOf, sessionStreamId } from './session-stream-id.ts';

describe('session stream ids', () => {
  it('name the tenant and the session, and parse back', () => {
    expect(sessionStreamId('acme', 'order-1')).toBe('session-acme/order-1');
    expect(parseSessionStreamId('session-acme/order-1')).toEqual({ tenantId: 'acme', sessionId: 'order-1' });
  });

  it('give two tenants with one session id two streams and two bus keys', () => {
    const a = sessionStreamId('tenant-a', 's:1');
    const b = sessionStreamId('tenant-b', 's:1');
    expect(a).not.toBe(b);
    expect(partitionKeyOf({ streamId: a })).toBe('tenant-a/s:1');
    expect(partitionKeyOf({ streamId: b })).toBe('tenant-b/s:1');
  });

  it('cannot collide: ids allowed by the id pattern round-trip, whatever dashes and dots they hold', () => {
    const ids = ['a', 'a-b', 'session-a', 'a.b:c', 'A-1', 'x'.repeat(128), '0'];
    const seen = new Set<string>();
    for (const tenantId of ids)
      for (const sessionId of ids) {
        const streamId = sessionStreamId(tenantId, sessionId);
        expect(parseSessionStreamId(streamId)).toEqual({ tenantId, sessionId });
        seen.add(streamId);
      }
    expect(seen.size).toBe(ids.length * ids.length);
  });

  it('parse the streams created before migration 0010 as sessions without a tenant in the id', () => {
    expect(parseSessionStreamId('session-order-1')).toEqual({ tenantId: undefined, sessionId: 'order-1' });
    expect(sessionKeyOf('session-order-1')).toBe('order-1');
  });

  it('are not parsed from other streams or malformed ids', () => {
    for (const streamId of ['team-acme/support', 'session-', 'session-/x', 'session-a/', 'session-a/b/c'])
      expect(parseSessionStreamId(streamId)).toBeUndefined();
    expect(partitionKeyOf({ streamId: 'team-acme/support' })).toBe('team-acme/support');
  });

  it('refuse to build from ids that could make two pairs share a stream', () => {
    expect(() => sessionStreamId('a/b', 'c')).toThrow(TypeError);
    expect(() => sessionStreamId('a', 'b/c')).toThrow(TypeError);
    expect(() => sessionStreamId('', 'c')).toThrow(TypeError);
  });
});
