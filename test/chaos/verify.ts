import { Kafka, logLevel } from 'kafkajs';
import { TOPIC } from './cluster.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Events committed to Postgres that never reached Kafka: reads the topic from the beginning in a
 * group of its own until every `streamId#version` is seen or `timeoutMs` passes; what is left is
 * missing. The relay publishes at least once, so duplicates on the topic are fine.
 */
export const unpublished = async (
  brokers: string,
  expected: ReadonlySet<string>,
  timeoutMs: number,
): Promise<string[]> => {
  const kafka = new Kafka({ clientId: 'chaos-observer', brokers: [brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `chaos-observer-${Date.now()}` });
  const left = new Set(expected);
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const envelope = JSON.parse(message.value?.toString() ?? '{}') as {
        streamId?: string;
        version?: number;
      };
      left.delete(`${envelope.streamId}#${envelope.version}`);
    },
  });
  const deadline = Date.now() + timeoutMs;
  while (left.size > 0 && Date.now() < deadline) await pause(250);
  await consumer.disconnect();
  return [...left].sort();
};

export type AuditAnswer = Readonly<{
  hashChainValid: boolean;
  replayMatches: boolean | null;
  firstDivergentVersion?: number | null;
  firstBrokenVersion?: number | null;
}>;

/** `GET /v1/sessions/{id}/audit` for every session, a few at a time. */
export const audits = async (restUrl: string, apiKey: string, sessionIds: readonly string[]) => {
  const results = new Map<string, AuditAnswer | string>();
  const queue = [...sessionIds];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const response = await fetch(`${restUrl}/v1/sessions/${id}/audit`, {
        headers: { authorization: `Bearer ${apiKey}` },
      }).catch((error: unknown) => (error as Error).message);
      results.set(
        id,
        typeof response === 'string'
          ? response
          : response.ok
            ? ((await response.json()) as AuditAnswer)
            : `HTTP ${response.status}`,
      );
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const answers = [...results];
  const pct = (ok: (a: AuditAnswer) => boolean) =>
    answers.length === 0
      ? 0
      : (100 * answers.filter(([, a]) => typeof a !== 'string' && ok(a)).length) / answers.length;
  return {
    hashChainsValidPct: pct((a) => a.hashChainValid),
    replayEqualPct: pct((a) => a.replayMatches === true),
    problems: answers
      .filter(([, a]) => typeof a === 'string' || !a.hashChainValid || a.replayMatches !== true)
      .map(([id, a]) => `${id}: ${typeof a === 'string' ? a : JSON.stringify(a)}`),
  };
};
