export type SseFrame = Readonly<{ id?: string; event?: string; data: string }>;

export type SseClient = Readonly<{
  status: number;
  contentType: string | null;
  /** The next frame (comments skipped); rejects if the stream ends first. */
  next: () => Promise<SseFrame>;
  close: () => void;
}>;

const parseFrame = (block: string): SseFrame | undefined => {
  const fields: Record<string, string> = {};
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    fields[name] = fields[name] === undefined ? value : `${fields[name]}\n${value}`;
  }
  if (fields['data'] === undefined) return undefined;
  return { ...fields, data: fields['data'] };
};

/** A minimal EventSource over fetch: a real socket, frames read as they arrive. */
export const openSse = async (url: string, headers: Record<string, string>): Promise<SseClient> => {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const next = async (): Promise<SseFrame> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end !== -1) {
        const frame = parseFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (frame !== undefined) return frame;
        continue;
      }
      const chunk = await reader?.read();
      if (chunk === undefined || chunk.done) throw new Error('the SSE stream ended');
      buffer += decoder.decode(chunk.value, { stream: true });
    }
  };
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    next,
    close: () => abort.abort(),
  };
};
