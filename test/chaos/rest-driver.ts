import { createSseParser } from '@agentledger/client';
import { PermanentFailure, withRetry, type Driver, type RetryStats } from './clients.ts';

/** The REST API as a business system calls it (fetch, JSON, SSE), retrying with the same keys. */
export const restDriver = (baseUrl: string, apiKey: string, stats: RetryStats): Driver => {
  const call = async (method: string, path: string, body?: unknown, key?: string): Promise<unknown> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(key === undefined ? {} : { 'idempotency-key': key }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    if (response.status >= 500 || response.status === 429 || response.status === 408)
      throw new Error(`${method} ${path}: ${response.status}`);
    if (response.status >= 400)
      throw new PermanentFailure(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
    return text === '' ? {} : JSON.parse(text);
  };
  return {
    protocol: 'rest',
    createSession: (sessionId, teamId) =>
      withRetry(
        'create',
        stats,
        async () => void (await call('POST', '/v1/sessions', { teamId, sessionId })),
      ),
    send: (sessionId, content, key) =>
      withRetry('rest send', stats, async () => {
        const answer = (await call('POST', `/v1/sessions/${sessionId}/messages`, { content }, key)) as {
          version: number;
        };
        return Number(answer.version);
      }),
    view: (sessionId) =>
      withRetry('rest view', stats, async () => {
        const state = (await call('GET', `/v1/sessions/${sessionId}`)) as {
          status: string;
          version: number;
          pending: { approvals: { toolCallId: string }[] };
        };
        return {
          status: state.status,
          version: Number(state.version),
          approvals: state.pending.approvals.map((a) => a.toolCallId),
        };
      }),
    approve: (sessionId, toolCallId) =>
      withRetry('rest approve', stats, async () => {
        await call(
          'POST',
          `/v1/sessions/${sessionId}/approvals/${toolCallId}`,
          { approve: true },
          `${sessionId}:approve:${toolCallId}`,
        ).catch((error: unknown) => {
          // A retried approval whose first answer was lost finds the call decided already.
          if (error instanceof PermanentFailure && / 409 /.test(error.message)) return;
          throw error;
        });
      }),
    follow: (sessionId, after, onVersion) => {
      const controller = new AbortController();
      const ended = (async () => {
        const response = await fetch(`${baseUrl}/v1/sessions/${sessionId}/stream?after=${after}`, {
          headers: { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (!response.ok || response.body === null) throw new Error(`stream: ${response.status}`);
        const parser = createSseParser();
        const decoder = new TextDecoder();
        for await (const chunk of response.body)
          for (const frame of parser.push(decoder.decode(chunk as Uint8Array, { stream: true })))
            if (frame.id !== undefined) onVersion(Number(frame.id)); // deltas carry no id
      })();
      return { cancel: () => controller.abort(), ended };
    },
    close: () => undefined,
  };
};
