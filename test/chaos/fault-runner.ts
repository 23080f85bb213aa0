import type { Cluster } from './cluster.ts';
import type { Fault } from './faults.ts';
import type { Random } from './random.ts';

/** What happened, when (ms since the run started, and wall clock for matching model bills). */
export type FaultRecord = Readonly<{
  kind: string;
  target: string;
  atMs: number;
  startedAt: number;
  endedAt: number;
  outcome: string;
}>;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Plays the schedule against the cluster. An orchestrator SIGKILL is skipped while fewer than two
 * replicas are up (so one always serves); every target is restarted after its planned downtime.
 */
export const runFaults = (
  schedule: readonly Fault[],
  cluster: Cluster,
  random: Random,
  startedAt: number,
  log: (line: string) => void,
): { done: Promise<FaultRecord[]> } => {
  const records: FaultRecord[] = [];
  const inFault = new Set<string>();
  const play = async (fault: Fault): Promise<void> => {
    await pause(Math.max(0, startedAt + fault.atMs - Date.now()));
    const begin = Date.now();
    let target = '';
    let outcome = 'ok';
    try {
      switch (fault.kind) {
        case 'kill-orchestrator':
        case 'term-orchestrator': {
          // A replica under another fault (stopping or restarting) is never picked twice.
          const free = () => cluster.upReplicas().filter((id) => !inFault.has(id));
          // The one SIGTERM is not skipped: it waits (up to 150 s: on a loaded machine a replica
          // SIGKILLed meanwhile takes a minute and more to start again, longer while the broker is
          // down) for a second replica to be up, then up to 20 s for one in the middle of a turn.
          const waitUntil = Date.now() + (fault.kind === 'term-orchestrator' ? 150_000 : 0);
          while (free().length < 2 && Date.now() < waitUntil) await pause(250);
          let busy: string[] = [];
          for (const until = Date.now() + 20_000; fault.kind === 'term-orchestrator' && Date.now() < until;) {
            busy = (await cluster.busyReplicas().catch(() => [])).filter((id) =>
              free().includes(id as never),
            );
            if (busy.length > 0) break;
            await pause(250);
          }
          // A replica killed meanwhile (another fault) may still be restarting: the SIGTERM waits
          // for it too, within its 150 s, rather than being skipped.
          while ((free().length < 2 || cluster.upReplicas().length < 2) && Date.now() < waitUntil)
            await pause(250);
          const up = free();
          if (up.length < 2 || cluster.upReplicas().length < 2) {
            outcome = 'skipped: fewer than two replicas up';
            break;
          }
          target = random.pick(
            busy.some((id) => up.includes(id as never)) ? busy.filter((id) => up.includes(id as never)) : up,
          );
          inFault.add(target);
          try {
            const signal = fault.kind === 'kill-orchestrator' ? 'SIGKILL' : 'SIGTERM';
            log(`fault: ${signal} ${target}`);
            const slow = setTimeout(() => log(`${target} still running 30 s after ${signal}`), 30_000);
            const exit = await cluster.stopReplica(target, signal).finally(() => clearTimeout(slow));
            outcome = `exited ${exit}${busy.includes(target) ? ' (was holding a turn)' : ''}`;
            await pause(fault.forMs);
            await cluster.startReplica(target);
          } finally {
            inFault.delete(target);
          }
          break;
        }
        case 'kill-gateway':
          target = 'gateway';
          log('fault: SIGKILL gateway');
          await cluster.killGateway();
          await pause(fault.forMs);
          await cluster.startGateway();
          break;
        case 'stop-broker':
          target = 'kafka';
          log(`fault: broker down for ${fault.forMs} ms`);
          await cluster.kafka.kill();
          await pause(fault.forMs);
          await cluster.kafka.start();
          break;
        case 'kill-postgres':
          target = 'postgres';
          log(`fault: Postgres immediate shutdown for ${fault.forMs} ms`);
          await cluster.postgres.kill();
          await pause(fault.forMs);
          await cluster.postgres.start();
          break;
        case 'model-429':
        case 'model-500':
          target = 'model';
          log(`fault: model ${fault.kind === 'model-429' ? '429 burst' : '500s'} for ${fault.forMs} ms`);
          cluster.model.setFault(fault.kind === 'model-429' ? 'rate-limit' : 'server-error');
          await pause(fault.forMs);
          cluster.model.setFault('none');
          break;
        case 'model-stall':
          target = 'model';
          log(`fault: model stalls the next 3 answers ${fault.forMs} ms`);
          cluster.model.stall(3, fault.forMs);
          break;
      }
    } catch (error) {
      outcome = `error: ${(error as Error).message.slice(0, 300)}`;
      log(`fault ${fault.kind} ${target}: ${outcome}`);
    }
    records.push({
      kind: fault.kind,
      target,
      atMs: begin - startedAt,
      startedAt: begin,
      endedAt: Date.now(),
      outcome,
    });
  };
  return { done: Promise.all(schedule.map(play)).then(() => records.sort((a, b) => a.atMs - b.atMs)) };
};
