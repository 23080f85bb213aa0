import { startFakeOpenAIServer, type FakeReply } from '@agentledger/agents/testing';
import type { Random } from './random.ts';

type OpenAIBody = {
  messages: { role: string; content?: string | null }[];
  tools?: { function: { name: string } }[];
};

/**
 * One answer billed: when it was sent, whether it was held as a stall, and `retriedAnswer`: the
 * model client sent this request as its own retry of an attempt that was answered (the `openai`
 * SDK's `X-Stainless-Retry-Count` is one more than that answered attempt's), so that answer never
 * reached it whole or in time.
 */
export type PaidAnswer = Readonly<{
  at: number;
  stalled: boolean;
  retriedAnswer: boolean;
  /** The replica that asked (from `baseUrlFor`); '' when asked at `baseUrl`. */
  replica: string;
}>;

export type ModelFault = 'none' | 'rate-limit' | 'server-error';

export type ChaosModel = Readonly<{
  baseUrl: string;
  /** The same model at a path naming the replica that calls it, so answers say who asked. */
  baseUrlFor: (replica: string) => string;
  setFault: (fault: ModelFault) => void;
  /** Every answer is held `ms` before it is sent (a provider's latency; 0 by default). */
  setLatency: (ms: number) => void;
  /** The next `count` answers are held `ms` before they are sent (a stalled provider). */
  stall: (count: number, ms: number) => void;
  /** Successful answers per `Idempotency-Key` (what a provider bills), in the order they were sent. */
  paid: () => ReadonlyMap<string, readonly PaidAnswer[]>;
  counts: () => Readonly<Record<string, number>>;
  close: () => Promise<void>;
}>;

/**
 * The fake OpenAI-compatible server as the chaos run's model: a pure function of the request (so any
 * replica answers alike before and after a crash) — to a user message `… tool=<name> …` it calls
 * that tool with `{ text }`; to a tool result it answers `done: …`. Faults: 429 bursts with
 * `retry-after`, 500s, stalls.
 */
export const startChaosModel = async (random: Random): Promise<ChaosModel> => {
  const fake = await startFakeOpenAIServer();
  const paid = new Map<string, PaidAnswer[]>();
  const counts: Record<string, number> = { answered: 0, rateLimited: 0, serverErrors: 0, stalled: 0 };
  let fault: ModelFault = 'none';
  let stalls: { count: number; ms: number } = { count: 0, ms: 0 };
  let latencyMs = 0;
  /** The last attempt per `Idempotency-Key`: the client's retry count, and whether it was answered. */
  const lastAttempt = new Map<string, { retry: number; answered: boolean }>();
  fake.setFallback((raw, request): FakeReply => {
    const key = String(request.headers['idempotency-key'] ?? '');
    const retry = Number(request.headers['x-stainless-retry-count'] ?? 0) || 0;
    const before = lastAttempt.get(key);
    const retriedAnswer = retry > 0 && before?.answered === true && before.retry === retry - 1;
    lastAttempt.set(key, { retry, answered: false });
    if (fault === 'rate-limit' && random.next() < 0.5) {
      counts['rateLimited']! += 1;
      return { kind: 'error', status: 429, message: 'rate limited', headers: { 'retry-after': '1' } };
    }
    if (fault === 'server-error' && random.next() < 0.4) {
      counts['serverErrors']! += 1;
      return { kind: 'error', status: 500, message: 'upstream failure' };
    }
    lastAttempt.set(key, { retry, answered: true });
    const body = raw as OpenAIBody;
    const last = body.messages.at(-1);
    const text = typeof last?.content === 'string' ? last.content : '';
    const tool = /tool=(\w+)/.exec(text)?.[1];
    const offered = body.tools?.some((t) => t.function.name === tool) === true;
    counts['answered']! += 1;
    const stalled = stalls.count > 0;
    let delayMs = latencyMs;
    if (stalled) {
      stalls = { count: stalls.count - 1, ms: stalls.ms };
      counts['stalled']! += 1;
      delayMs = stalls.ms;
    }
    const replica = /^\/replica\/([^/]+)\//.exec(request.path)?.[1] ?? '';
    paid.set(key, [...(paid.get(key) ?? []), { at: Date.now() + delayMs, stalled, retriedAnswer, replica }]);
    if (last?.role === 'user' && tool !== undefined && offered)
      return { kind: 'message', toolCalls: [{ name: tool, arguments: JSON.stringify({ text }) }], delayMs };
    return { kind: 'message', content: `done: ${text.slice(0, 80)}`, delayMs };
  });
  return {
    baseUrl: fake.baseUrl,
    baseUrlFor: (replica) => fake.baseUrl.replace(/\/v1$/, `/replica/${encodeURIComponent(replica)}/v1`),
    setFault: (next) => void (fault = next),
    setLatency: (ms) => void (latencyMs = ms),
    stall: (count, ms) => void (stalls = { count, ms }),
    paid: () => paid,
    counts: () => ({ ...counts }),
    close: fake.close,
  };
};
