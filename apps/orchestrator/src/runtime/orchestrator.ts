import { randomUUID } from 'node:crypto';
import type { EffectDeps, ModelEndpoints } from '@agentledger/agents';
import { parseSessionStreamId, sessionStreamId } from '@agentledger/events';
import {
  createStreamDedupe,
  type Delivery,
  type EventBus,
  type Logger,
  type Subscription,
} from '@agentledger/events/bus';
import { createLogContext, type LogContextStore } from '@agentledger/events/observability';
import type {
  SessionEngine,
  SessionLeases,
  SessionRecovery,
  SessionRef,
  TenantUsage,
  ToolAttempts,
} from '@agentledger/sessions';
import { detached, SpanKind, startSpan, traceparentOf } from '@agentledger/telemetry';
import { createSemaphore } from '../flow/semaphore.ts';
import { createSessionScheduler } from '../flow/session-scheduler.ts';
import { createEndpointLimits } from '../flow/endpoint-limits.ts';
import { createDeadlineTimers } from './deadline-timers.ts';
import type { OrchestratorMetrics } from './metrics.ts';
import { createLeaseKeeper } from './lease-keeper.ts';
import { runSession } from './session-worker.ts';
import { createOrchestratorStepHooks } from './step-hooks.ts';
import { createTurnCancellation } from './turn-cancellation.ts';

export const ORCHESTRATOR_GROUP = 'agentledger-orchestrator';

export type OrchestratorSettings = Readonly<{
  replicaId: string;
  groupId: string;
  maxConcurrentSessions: number;
  maxModelCalls: number;
  maxToolCalls: number;
  /** Requests and tokens per minute per model endpoint from this replica (undefined: unlimited). */
  modelRequestsPerMinute?: number;
  modelTokensPerMinute?: number;
  /** The operator's endpoints: their own requests/tokens per minute override the two above. */
  modelEndpoints?: ModelEndpoints;
  /** Model tokens a tenant may use per UTC day (undefined: unlimited); past it calls fail closed. */
  tenantDailyTokenBudget?: number;
  /** Times a model call failing with a retryable error parks its session before the failure is recorded. */
  maxModelParks?: number;
  leaseTtlMs: number;
  /**
   * How long a session's lease is kept after a run for its next turn (default 1 s; at most a third
   * of the TTL). A sole writer (the embedded product: no other replica ever waits for a session)
   * keeps it longer, so sessions whose turns come seconds apart are not released and re-acquired.
   */
  leaseLingerMs?: number;
  recoveryIntervalMs: number;
  /** A `running` session without progress for this long is marked stalled (and re-queued once). */
  stallAfterMs: number;
  shutdownDeadlineMs: number;
}>;

export type OrchestratorDeps = Readonly<{
  bus: EventBus;
  engine: SessionEngine;
  index: SessionLeases & SessionRecovery & TenantUsage & ToolAttempts;
  effects: Omit<EffectDeps, 'signal'>;
  metrics: OrchestratorMetrics;
  logger: Logger;
  /** The process's log context (the logger reads it): a session's work runs with its tenant and id. */
  logContext?: LogContextStore;
  settings: OrchestratorSettings;
  /** The clock of command metadata (the watchdog's MarkStalled). */
  clock: () => Date;
}>;

/**
 * How long a session's lease is kept after a run, for its next turn, unless the settings say (capped
 * at a third of the TTL): a busy session's turns then cost no release and acquire; a rebalance waits
 * at most this long.
 */
const LEASE_LINGER_MS = 1_000;

export type Orchestrator = Readonly<{
  start: () => Promise<void>;
  /** Stops taking work, lets running steps finish until the deadline, releases leases, leaves the group. */
  stop: () => Promise<void>;
  /** True once subscribed and assigned partitions by the group (or after the first assignment). */
  ready: () => boolean;
  /** Partitions this replica owns now. */
  partitions: () => readonly number[];
  /** Schedules a session now (recovery scans and tests). */
  schedule: (tenantId: string, sessionId: string) => void;
  /** Runs one recovery scan, one pass arming due deadlines and one watchdog pass now. */
  sweep: () => Promise<void>;
}>;

/**
 * One orchestrator replica: a consumer of the session-events topic in the orchestrator group that
 * hands sessions with work to a bounded worker pool. The consumer never waits on a model or tool:
 * it schedules and returns, so its offsets move as soon as the hand-off is done; the log (the
 * sessions read model's `pending_work`) is the source of pending work, scanned on assignment and
 * periodically, so nothing depends on a delivery that was skipped or lost.
 */
export const createOrchestrator = (deps: OrchestratorDeps): Orchestrator => {
  const { settings, metrics, logger } = deps;
  const logContext = deps.logContext ?? createLogContext();
  // Fencing is per process, not per name: two processes started with the same REPLICA_ID still
  // hold distinct leases and never release each other's.
  const leaseOwner = `${settings.replicaId}/${randomUUID()}`;
  const dedupe = createStreamDedupe({ maxStreams: 100_000 });
  const leases = createLeaseKeeper({
    leases: deps.index,
    owner: leaseOwner,
    ttlMs: settings.leaseTtlMs,
    lingerMs: settings.leaseLingerMs ?? LEASE_LINGER_MS,
    now: () => performance.now(),
    onError: (what, error) => logger.warn(`${what} failed: ${describe(error)}`),
  });
  const shutdown = new AbortController();
  let stopping = false;
  let subscription: Subscription | undefined;
  let owned: readonly number[] = [];
  let assigned = false;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;

  const modelCalls = createSemaphore(settings.maxModelCalls);
  const toolCalls = createSemaphore(settings.maxToolCalls);
  const endpoints = createEndpointLimits(
    { requestsPerMinute: settings.modelRequestsPerMinute, tokensPerMinute: settings.modelTokensPerMinute },
    undefined,
    (name) => {
      const endpoint = settings.modelEndpoints?.get(name);
      return {
        ...(endpoint?.requestsPerMinute ? { requestsPerMinute: endpoint.requestsPerMinute } : {}),
        ...(endpoint?.tokensPerMinute ? { tokensPerMinute: endpoint.tokensPerMinute } : {}),
      };
    },
  );
  // The trace of the delivery that last brought a session work: its next step continues that trace.
  const traces = new Map<string, string>();
  const parks = new Map<string, number>();
  const parkedTimers = new Set<NodeJS.Timeout>();
  const park = (callId: string): number | undefined => {
    const count = parks.get(callId) ?? 0;
    if (count >= (settings.maxModelParks ?? 5)) {
      parks.delete(callId);
      return undefined;
    }
    parks.set(callId, count + 1);
    if (parks.size > 10_000) parks.delete(parks.keys().next().value!);
    return Math.min(30_000, 500 * 2 ** count);
  };

  const cancellation = createTurnCancellation();
  // A deadline fires through the engine like any command; a turn it ended has its in-flight call
  // aborted here (the owner's worker is stepping it), and the session is stepped again for what
  // follows (a denied approval's next step, a queued turn).
  const deadlines = createDeadlineTimers({
    clock: deps.clock,
    fire: async ({ tenantId, sessionId }) => {
      const now = deps.clock();
      const { state, events } = await deps.engine.handle(
        {
          type: 'CheckTimeout',
          data: {},
          metadata: {
            commandId: `${sessionId}:deadline:${now.toISOString()}`,
            correlationId: sessionId,
            now,
          },
        },
        {
          tenantId,
          sessionId,
          metadata: { correlationId: sessionId, replicaId: settings.replicaId, actor: 'orchestrator' },
        },
      );
      for (const { type, data } of events)
        if (type === 'TurnCompleted') {
          metrics.timedOut.inc();
          logger.warn(`session ${sessionId}: turn timed out`);
          cancellation.cancel(sessionStreamId(tenantId, sessionId), cancelledTurn(data));
        }
      deadlines.watch({ tenantId, sessionId }, state);
      if (events.length > 0) schedule(tenantId, sessionId);
    },
    onError: (id, error) => logger.warn(`session ${id}: deadline check failed: ${describe(error)}`),
  });
  const hooks = createOrchestratorStepHooks({
    deadlines,
    cancellation,
    index: deps.index,
    replicaId: settings.replicaId,
    modelCalls,
    toolCalls,
    endpoints,
    park,
    metrics,
    logger,
    logContext,
    tenantDailyTokenBudget: settings.tenantDailyTokenBudget,
    clock: deps.clock,
  });

  const scheduler = createSessionScheduler({
    maxConcurrent: settings.maxConcurrentSessions,
    highWater: settings.maxConcurrentSessions * 4,
    // Sessions are scheduled by their tenant-scoped stream id: two tenants' sessions never share a slot.
    run: async (key) => {
      const { tenantId, sessionId } = parseSessionStreamId(key) ?? {};
      if (tenantId === undefined || sessionId === undefined) return;
      const traceparent = traces.get(key);
      traces.delete(key);
      metrics.sessionsInFlight.inc();
      try {
        // Detached: a step never nests under whatever span happened to schedule it.
        await detached(() =>
          logContext.run({ tenant: tenantId, sessionId }, () =>
            runSession(
              {
                engine: deps.engine,
                leases,
                effects: deps.effects,
                hooks,
                reschedule: (delayMs) => {
                  const timer = setTimeout(() => {
                    parkedTimers.delete(timer);
                    schedule(tenantId, sessionId);
                  }, delayMs);
                  parkedTimers.add(timer);
                },
                metrics,
                cancellation,
                deadlines,
                shutdown: shutdown.signal,
                stopping: () => stopping,
                delivered: dedupe.lastApplied,
                onError: (id, error) => logger.warn(`session ${id}: ${describe(error)}`),
              },
              tenantId,
              sessionId,
              traceparent,
            ),
          ),
        );
      } finally {
        metrics.sessionsInFlight.dec();
        metrics.sessionsQueued.set(scheduler.queued());
      }
    },
    onPressure: (saturated) => {
      if (saturated) metrics.flowWaits.inc({ resource: 'consumer' });
      if (saturated) subscription?.pause();
      else subscription?.resume();
    },
    onError: (key, error) => logger.error(`stream ${key} failed in its worker: ${describe(error)}`),
  });

  const schedule = (tenantId: string, sessionId: string): void => {
    if (stopping) return;
    scheduler.schedule(sessionStreamId(tenantId, sessionId));
    metrics.sessionsQueued.set(scheduler.queued());
  };

  // One run per append, not one per event: an append's events arrive one after another within one
  // turn of the event loop, and a session is scheduled once for all that turn's deliveries (a second
  // schedule while its run has started would run it again for nothing).
  const soon = new Map<string, SessionRef>();
  let flush: NodeJS.Immediate | undefined;
  const scheduleSoon = (tenantId: string, sessionId: string): void => {
    soon.set(sessionStreamId(tenantId, sessionId), { tenantId, sessionId });
    flush ??= setImmediate(() => {
      flush = undefined;
      const due = [...soon.values()];
      soon.clear();
      for (const ref of due) schedule(ref.tenantId, ref.sessionId);
    });
  };

  const measureLag = ({ envelope, partition, offset, highWatermark }: Delivery): void => {
    const labels = { partition: String(partition) };
    metrics.consumerLagSeconds.set(labels, Math.max(0, Date.now() - Date.parse(envelope.recordedAt)) / 1_000);
    if (highWatermark !== undefined)
      metrics.consumerLagOffsets.set(labels, Math.max(0, Number(highWatermark) - Number(offset) - 1));
  };

  /** A consumer span for a delivery that brings work, child of the relay's publish span. */
  const traceDelivery = (delivery: Delivery, key: string): void => {
    const parent = delivery.traceparent ?? delivery.envelope.metadata.traceparent;
    if (parent === undefined) return;
    const span = startSpan('process session-events', {
      kind: SpanKind.CONSUMER,
      traceparent: parent,
      attributes: {
        'messaging.operation.type': 'process',
        'messaging.destination.partition.id': String(delivery.partition),
        'messaging.kafka.offset': Number(delivery.offset),
        'messaging.message.id': delivery.envelope.eventId,
        'agentledger.event.type': delivery.envelope.type,
        'agentledger.replica': settings.replicaId,
      },
    });
    const traceparent = traceparentOf(span);
    if (traceparent !== undefined) {
      traces.delete(key);
      traces.set(key, traceparent);
      if (traces.size > 100_000) traces.delete(traces.keys().next().value!);
    }
    span.end();
  };

  const onDelivery = async (delivery: Delivery): Promise<void> => {
    const { envelope } = delivery;
    const session = parseSessionStreamId(envelope.streamId);
    if (session === undefined) return;
    measureLag(delivery);
    // A redelivered event is skipped; a gap needs nothing special: the worker folds from the store.
    if (dedupe.verdict(envelope).kind === 'duplicate') return;
    dedupe.applied(envelope);
    // What another writer appended (a gateway's message) continues the cached session here: the
    // worker's next load need not read it back from the store.
    deps.engine.observe(envelope);
    // Whoever recorded the cancel (a gateway, another replica), the call runs here: stop it now.
    if (envelope.type === 'TurnCancelled')
      cancellation.cancel(
        sessionStreamId(envelope.tenantId, session.sessionId),
        cancelledTurn(envelope.data),
      );
    // This replica's own appends come from a worker that re-checks the session after each of them.
    if (envelope.metadata.replicaId === settings.replicaId) return;
    traceDelivery(delivery, sessionStreamId(envelope.tenantId, session.sessionId));
    scheduleSoon(envelope.tenantId, session.sessionId);
  };

  // Sessions of owned partitions with work and no live lease, then orphans of any partition whose
  // owner's lease expired (a crashed replica): taken over at once, without waiting for a rebalance.
  const recover = async (): Promise<void> => {
    const limit = settings.maxConcurrentSessions * 4;
    const rows = [...(await deps.index.recoverable(owned, limit)), ...(await deps.index.orphaned(limit))];
    for (const row of rows) {
      metrics.recovered.inc();
      schedule(row.tenantId, row.sessionId);
    }
  };

  const watchdog = async (): Promise<void> => {
    const before = new Date(deps.clock().getTime() - settings.stallAfterMs);
    for (const row of await deps.index.stalled(before, 100)) {
      if (!owned.includes(row.partition)) continue;
      const now = deps.clock();
      const { events } = await deps.engine.handle(
        {
          type: 'MarkStalled',
          data: { reason: `no progress since ${row.lastProgressAt}` },
          metadata: {
            commandId: `${row.sessionId}:stalled:${row.version}`,
            correlationId: row.sessionId,
            now,
          },
        },
        { tenantId: row.tenantId, sessionId: row.sessionId },
      );
      if (events.length > 0) {
        metrics.stalled.inc();
        logger.warn(
          `session ${row.sessionId} marked stalled (no progress since ${row.lastProgressAt}); re-queued once`,
        );
        schedule(row.tenantId, row.sessionId);
      }
    }
  };

  // Sessions of owned partitions nobody steps (waiting for an approval or input) whose deadline
  // comes before the next sweep: after a restart or a rebalance no timer of this replica watches
  // them yet. Armed from the loaded state; one already passed fires at once. Then deadlines of any
  // partition passed a whole sweep interval ago: their partition's owner would have fired them, so
  // it died and the group has not handed its partitions on yet; fired here at once, like orphans
  // (two replicas firing one deadline is harmless: the later append decides nothing).
  const armDue = async (): Promise<void> => {
    const now = deps.clock().getTime();
    const limit = settings.maxConcurrentSessions * 4;
    const before = new Date(now + settings.recoveryIntervalMs);
    const overdue = new Date(now - settings.recoveryIntervalMs);
    const rows = [
      ...(await deps.index.due(owned, before, limit)),
      ...(await deps.index.due('any', overdue, limit)).filter((row) => !owned.includes(row.partition)),
    ];
    for (const row of rows) {
      const ref = { tenantId: row.tenantId, sessionId: row.sessionId };
      await deadlines.check(ref, await deps.engine.load(row.tenantId, row.sessionId));
    }
  };

  const sweep = (): Promise<void> => {
    sweeping ??= (async () => {
      try {
        await recover();
        await armDue();
        await watchdog();
      } catch (error) {
        logger.warn(`recovery sweep failed: ${describe(error)}`);
      } finally {
        sweeping = undefined;
      }
    })();
    return sweeping;
  };

  return {
    start: async () => {
      subscription = await deps.bus.subscribe(settings.groupId, onDelivery, {
        onAssigned: (partitions) => {
          owned = [...partitions];
          assigned = true;
          metrics.partitionsOwned.reset();
          for (const partition of owned) metrics.partitionsOwned.set({ partition: String(partition) }, 1);
          logger.info(`replica ${settings.replicaId} owns partitions [${owned.join(', ')}]`);
          void sweep();
        },
        onRevoked: (partitions) => {
          for (const partition of partitions) {
            metrics.consumerLagSeconds.remove({ partition: String(partition) });
            metrics.consumerLagOffsets.remove({ partition: String(partition) });
          }
          metrics.partitionsOwned.reset();
          owned = [];
          // Their sessions are another replica's now: leases kept for a next run would hold it up.
          void leases.releaseKept();
        },
      });
      timer = setInterval(() => void sweep(), settings.recoveryIntervalMs);
      leases.start();
    },
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      clearImmediate(flush);
      soon.clear();
      deadlines.stop();
      for (const parked of parkedTimers) clearTimeout(parked);
      const finished = await scheduler.drain(settings.shutdownDeadlineMs);
      if (!finished) {
        logger.warn(
          `shutdown deadline of ${settings.shutdownDeadlineMs} ms passed: aborting in-flight steps`,
        );
        shutdown.abort(new Error('shutdown'));
        await scheduler.drain(5_000);
      }
      leases.stop();
      await leases.releaseKept();
      // Whatever a worker still holds now is released: its late appends are rejected by the fence.
      const released = await deps.index.releaseAll(leaseOwner).catch(() => 0);
      if (released > 0) logger.warn(`released ${released} lease(s) still held at shutdown`);
      await sweeping;
      await subscription?.stop();
    },
    ready: () => assigned,
    partitions: () => owned,
    schedule,
    sweep,
  };
};

const cancelledTurn = (data: unknown): string =>
  typeof data === 'object' && data !== null && 'turnId' in data && typeof data.turnId === 'string'
    ? data.turnId
    : '';

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
