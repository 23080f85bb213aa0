/** One server-sent event (a block ended by a blank line, comments dropped). */
export type SseFrame = Readonly<{ id?: string; event?: string; data: string; retry?: number }>;

/** An incremental `text/event-stream` parser: push decoded text, get the frames it completed. */
export const createSseParser = (): Readonly<{ push: (text: string) => SseFrame[] }> => {
  let buffer = '';
  const parseBlock = (block: string): SseFrame | undefined => {
    const fields: { id?: string; event?: string; data?: string; retry?: number } = {};
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (name === 'data') fields.data = fields.data === undefined ? value : `${fields.data}\n${value}`;
      else if (name === 'id' || name === 'event') fields[name] = value;
      else if (name === 'retry' && /^\d+$/.test(value)) fields.retry = Number(value);
    }
    return fields.data === undefined ? undefined : { ...fields, data: fields.data };
  };
  const push = (text: string): SseFrame[] => {
    buffer = (buffer + text).replace(/\r\n?/g, '\n');
    const frames: SseFrame[] = [];
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const frame = parseBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (frame !== undefined) frames.push(frame);
    }
    return frames;
  };
  return { push };
};
