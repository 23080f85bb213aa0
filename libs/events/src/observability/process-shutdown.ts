/**
 * What a process that drains a runtime (`SHUTDOWN_DEADLINE_MS`) may take beyond that drain to leave
 * the consumer group and close, before it exits anyway: its `deadlineMs` is the sum of the two.
 */
export const CLOSE_AFTER_DRAIN_MS = 15_000;

/** One step of a process' shutdown, named for the log line that says which one did not finish. */
export type ShutdownStage = Readonly<{ name: string; run: () => Promise<unknown> }>;

export type ProcessShutdownOptions = Readonly<{
  stages: readonly ShutdownStage[];
  /**
   * How long the stages may take together before the process exits anyway (status 1). Keep it
   * above what a clean stop needs (the orchestrator's drain is `SHUTDOWN_DEADLINE_MS`) and below
   * the supervisor's grace period, so that the log says which stage hung before a SIGKILL would.
   */
  deadlineMs: number;
  info: (message: string) => void;
  error: (message: string, error?: unknown) => void;
  /** Default `process.exit`. */
  exit?: (code: number) => void;
}>;

/**
 * The shutdown of a service process: the stages in order, then exit 0; a stage that throws, or
 * stages still running at `deadlineMs` (a broker that never answers a group leave, a socket that
 * never closes), exit 1 with the stage named. Exiting there is safe by design: what is left undone
 * is what a SIGKILL leaves (leases expire, offsets not committed are delivered again). Returns the
 * function to call on a signal; calls after the first are ignored.
 */
export const processShutdown = ({
  stages,
  deadlineMs,
  info,
  error,
  exit = (code) => process.exit(code),
}: ProcessShutdownOptions): ((signal: string) => void) => {
  let started = false;
  return (signal) => {
    if (started) return;
    started = true;
    info(`${signal}: shutting down`);
    let current = stages[0]?.name ?? 'exit';
    let ended = false;
    const end = (code: number): void => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      exit(code);
    };
    const timer = setTimeout(() => {
      error(`shutdown did not finish within ${deadlineMs} ms (still in: ${current}); exiting`);
      end(1);
    }, deadlineMs);
    void (async () => {
      for (const stage of stages) {
        current = stage.name;
        await stage.run();
      }
    })().then(
      () => end(0),
      (failure: unknown) => {
        if (!ended) error(`shutdown failed in ${current}`, failure);
        end(1);
      },
    );
  };
};
