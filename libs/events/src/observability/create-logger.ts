import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Level, type Logger as PinoLogger } from 'pino';
import type { Logger } from '../bus.ts';
import { createLogContext, type LogContextStore } from './log-context.ts';
import { redactFields, scrubSecrets } from './redaction.ts';
import { currentTraceId } from '@agentledger/telemetry';

export type LogFormat = 'auto' | 'json' | 'pretty';

export type LoggingOptions = Readonly<{
  level: Level;
  /** `pretty` needs `pino-pretty` installed; `auto` is pretty on a TTY when it is. Else JSON lines. */
  format: LogFormat;
  /** Message content (prompts, answers, tool input and output) in logs: off unless debugging. */
  content: boolean;
  /** On every line: `app`, `replica`. */
  base: Readonly<Record<string, string>>;
  /** Values never written (API keys, model keys): replaced wherever they appear in a line. */
  secrets: readonly string[];
  context: LogContextStore;
  /** Default: stdout. */
  destination?: DestinationStream;
  isTty?: boolean;
}>;

const prettyAvailable = (): boolean => {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
};

/** Pretty only when asked for (or `auto` on a terminal) and `pino-pretty` is installed; else JSON lines. */
export const wantsPretty = (format: LogFormat, isTty: boolean, installed: () => boolean): boolean =>
  (format === 'pretty' || (format === 'auto' && isTty)) && installed();

const usePretty = (options: LoggingOptions): boolean =>
  options.destination === undefined &&
  wantsPretty(options.format, options.isTty ?? process.stdout.isTTY === true, prettyAvailable);

/**
 * The process's root pino logger: JSON lines on stdout with the work's context (tenant, session,
 * agent, call id, trace id) on every line, credentials always redacted, message content redacted
 * unless `content` is on, and the operator's secret values scrubbed from whatever is written.
 */
export const createRootLogger = (options: LoggingOptions): PinoLogger => {
  const scrub = scrubSecrets(options.secrets);
  const settings = {
    level: options.level,
    base: { ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => {
      const traceId = currentTraceId();
      return { ...options.context.current(), ...(traceId === undefined ? {} : { traceId }) };
    },
    formatters: {
      level: (label: string) => ({ level: label }),
      log: (fields: Record<string, unknown>) => redactFields(fields, options.content),
    },
    hooks: { streamWrite: scrub },
  };
  if (usePretty(options)) return pino({ ...settings, transport: { target: 'pino-pretty' } });
  return pino(settings, options.destination ?? pino.destination({ fd: 1, sync: true }));
};

/** The `Logger` port (relay, bus adapters, orchestrator) over a pino logger. */
export const portLogger = (logger: PinoLogger): Logger => ({
  debug: (message, fields) => logger.debug(fields ?? {}, message),
  info: (message, fields) => logger.info(fields ?? {}, message),
  warn: (message, fields) => logger.warn(fields ?? {}, message),
  error: (message, fields) => logger.error(fields ?? {}, message),
});

export type Logging = Readonly<{
  root: PinoLogger;
  context: LogContextStore;
  /** The same logger behind the `Logger` port. */
  port: Logger;
}>;

/** The password of a connection URL, if it has one (scrubbed like a key). */
export const urlPassword = (url: string | undefined): string[] => {
  if (url === undefined) return [];
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password === '' ? [] : [password];
  } catch {
    return [];
  }
};

/** A process's logging from its parsed config: the root logger, its context store and the port. */
export const createLogging = (
  config: Readonly<{ LOG_LEVEL: Level; LOG_FORMAT: LogFormat; LOG_CONTENT: boolean }>,
  base: Readonly<Record<string, string>>,
  secrets: readonly string[],
): Logging => {
  const context = createLogContext();
  const root = createRootLogger({
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
    content: config.LOG_CONTENT,
    base,
    secrets,
    context,
  });
  return { root, context, port: portLogger(root) };
};
