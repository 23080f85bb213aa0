import { replayDecisions, type DecisionReplay, type SessionEvent } from '@agentledger/agents';
import type { EventEnvelope, EventStore, VerifyResult } from '@agentledger/events';
import {
  verifyCheckpoints,
  type CheckpointSigner,
  type CheckpointStore,
  type CheckpointVerdict,
} from './checkpoints.ts';

export type AuditDeps = Readonly<{
  store: Pick<EventStore, 'readStream' | 'verifyStream'>;
  /** Absent (with `signer`) when checkpoints are off. */
  checkpoints?: CheckpointStore;
  signer?: CheckpointSigner;
}>;

export type SessionAudit = Readonly<{
  eventCount: number;
  headHash: string;
  hashChainValid: boolean;
  firstBrokenVersion: number | null;
  replayMatches: boolean;
  firstDivergentVersion: number | null;
  replay: DecisionReplay;
  checkpoints: CheckpointVerdict;
  specHash: string | null;
  models: readonly string[];
  tokens: Readonly<{ prompt: number; completion: number; total: number }>;
}>;

const toRecorded = (e: EventEnvelope) =>
  ({ type: e.type, data: e.data, recordedAt: e.recordedAt }) as SessionEvent & { recordedAt: string };

/** Chain, signed checkpoints and decision replay of events already read (the CLI reads in bulk). */
export const auditEvents = (
  deps: Omit<AuditDeps, 'store'>,
  verified: VerifyResult,
  events: readonly EventEnvelope[],
  checkpointList: Parameters<typeof verifyCheckpoints>[1],
): SessionAudit => {
  const replay = replayDecisions(events.map(toRecorded));
  const models = new Set<string>();
  let prompt = 0;
  let completion = 0;
  let specHash: string | null = null;
  for (const e of events) {
    const data = e.data as Record<string, unknown>;
    if (e.type === 'SessionStarted' && typeof data.specHash === 'string') specHash = data.specHash;
    if (
      (e.type === 'ModelCallRequested' || e.type === 'ModelCallCompleted') &&
      typeof data.model === 'string'
    )
      models.add(data.model);
    if (e.type === 'ModelCallCompleted') {
      const usage = data.usage as { promptTokens?: number; completionTokens?: number } | undefined;
      prompt += usage?.promptTokens ?? 0;
      completion += usage?.completionTokens ?? 0;
    }
  }
  return {
    eventCount: verified.eventCount,
    headHash: verified.headHash,
    hashChainValid: verified.valid,
    firstBrokenVersion: verified.firstBrokenVersion ?? null,
    replayMatches: replay.matches,
    firstDivergentVersion: replay.firstDivergentVersion ?? null,
    replay,
    checkpoints: verifyCheckpoints(deps.signer, checkpointList, events),
    specHash,
    models: [...models].sort(),
    tokens: { prompt, completion, total: prompt + completion },
  };
};

/**
 * The audit of one stream: its hash chain, its signed checkpoints (a rewritten history or a deleted
 * tail no longer matches what was signed) and decision replay (every recorded decision is today's).
 */
export const auditSession = async (
  deps: AuditDeps,
  tenantId: string,
  streamId: string,
): Promise<SessionAudit> => {
  const [verified, events, checkpointList] = await Promise.all([
    deps.store.verifyStream(streamId, { tenantId }),
    deps.store.readStream(streamId, { tenantId }),
    deps.checkpoints === undefined || deps.signer === undefined
      ? Promise.resolve([])
      : deps.checkpoints.list(tenantId, streamId),
  ]);
  return auditEvents(deps, verified, events, checkpointList);
};
