import { describe, expect, it } from 'vitest';
import { createSseParser } from './sse.ts';

describe('createSseParser', () => {
  it('parses frames split across chunks, multi-line data, comments and CRLF', () => {
    const parser = createSseParser();
    expect(parser.push('retry: 1000\n: stream open\n\nid: 1\nevent: Session')).toEqual([]);
    expect(parser.push('Started\ndata: {"a":\r\ndata: 1}\r\n\r\nid: 2\n')).toEqual([
      { id: '1', event: 'SessionStarted', data: '{"a":\n1}' },
    ]);
    expect(parser.push('data: x\n\n')).toEqual([{ id: '2', data: 'x' }]);
  });

  it('keeps frames without an id (deltas) and drops blocks without data', () => {
    const parser = createSseParser();
    expect(parser.push('event: delta\ndata: {"text":"He"}\n\nevent: ping\n\n')).toEqual([
      { event: 'delta', data: '{"text":"He"}' },
    ]);
  });
});
