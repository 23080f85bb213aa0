import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a log line of work says about that work. The logger adds `traceId` itself, from the span
 * active when the line is written (a request's, a step's), so every line of a turn carries it.
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
  /**
   * Runs `work` with `fields` added to the current context (nested runs see both). A function is
   * read at each line: for what is learnt later, e.g. the tenant once a request is authenticated.
   */
  run: <T>(fields: LogContext | (() => LogContext), work: () => T) => T;
  /** Adds fields to the current unit of work. */
  enrich: (fields: LogContext) => void;
  current: () => LogContext;
}>;

type Frame = { fields: LogContext; late?: () => LogContext; parent?: Frame };

const defined = (fields: LogContext): LogContext =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== ''));

const resolve = (frame: Frame | undefined): LogContext =>
  frame === undefined
    ? {}
    : { ...resolve(frame.parent), ...frame.fields, ...(frame.late ? defined(frame.late()) : {}) };

/** One store per process, made in the composition root and given to the logger and to the work. */
export const createLogContext = (): LogContextStore => {
  const storage = new AsyncLocalStorage<Frame>();
  return {
    run: (fields, work) => {
      const parent = storage.getStore();
      const frame: Frame =
        typeof fields === 'function'
          ? { fields: {}, late: fields, parent }
          : { fields: defined(fields), parent };
      return storage.run(frame, work);
    },
    enrich: (fields) => {
      const frame = storage.getStore();
      if (frame) Object.assign(frame.fields, defined(fields));
    },
    current: () => resolve(storage.getStore()),
  };
};
