import type { LoggerService } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';

const describe = (message: unknown): { msg: string; fields: Record<string, unknown> } =>
  message instanceof Error
    ? { msg: message.message, fields: { err: message } }
    : typeof message === 'object' && message !== null
      ? { msg: '', fields: { ...message } }
      : { msg: String(message), fields: {} };

/** Nest's start-up chatter (modules loaded, routes mapped) is debug, not info. */
const BOOT_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** Nest's logger routed to pino: framework lines are JSON lines with the same context and redaction. */
export const nestLogger = (logger: PinoLogger): LoggerService => {
  const write =
    (level: 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'trace') =>
    (message: unknown, ...rest: unknown[]): void => {
      // Nest calls (message, context) and, for errors, (message, stack, context).
      const last = rest.at(-1);
      const nestContext = typeof last === 'string' ? last : undefined;
      const stack = rest.length >= 2 && typeof rest[0] === 'string' ? rest[0] : undefined;
      const { msg, fields } = describe(message);
      if (stack !== undefined) fields.stack = stack;
      const effective =
        level === 'info' && nestContext !== undefined && BOOT_CONTEXTS.has(nestContext) ? 'debug' : level;
      logger[effective]({ ...fields, ...(nestContext === undefined ? {} : { nestContext }) }, msg);
    };
  return {
    log: write('info'),
    error: write('error'),
    warn: write('warn'),
    debug: write('debug'),
    verbose: write('trace'),
    fatal: write('fatal'),
  };
};
