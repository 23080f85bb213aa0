import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a log line of work says about that work. `traceId` stays empty until traces land; the slot is
 * here so every line of a turn can carry it without another change to the loggers.
 */
export type LogContext = {
  tenant?: string;
  sessionId?: string;
  agent?: string;
  callId?: string;
  traceId?: string;
};

/** The fields of the unit of work running now (a request, a session step, a model or tool call). */
export type LogContextStore = Readonly<{
  /** Runs `work` with `fields` added to the current context (nested runs see both). */
  run: <T>(fields: LogContext, work: () => T) => T;
  /** Adds fields to the current unit of work (e.g. the tenant, once the request is authenticated). */
  enrich: (fields: LogContext) => void;
  current: () => LogContext;
}>;

const defined = (fields: LogContext): LogContext =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== ''));

/** One store per process, made in the composition root and given to the logger and to the work. */
export const createLogContext = (): LogContextStore => {
  const storage = new AsyncLocalStorage<LogContext>();
  return {
    run: (fields, work) => storage.run({ ...storage.getStore(), ...defined(fields) }, work),
    enrich: (fields) => {
      const store = storage.getStore();
      if (store) Object.assign(store, defined(fields));
    },
    current: () => storage.getStore() ?? {},
  };
};
