import { z } from 'zod';

/** The logging variables every app's config schema extends with (one definition, three apps). */
export const logConfigShape = {
  LOG_LEVEL: z
    .enum(['error', 'warn', 'info', 'debug'])
    .default('info')
    .describe('Least severe log level written (JSON lines on stdout).'),
  LOG_FORMAT: z
    .enum(['auto', 'json', 'pretty'])
    .default('auto')
    .describe(
      '`auto`: pretty on a terminal when `pino-pretty` is installed, JSON lines otherwise; `json` always; `pretty` when installed.',
    ),
  LOG_CONTENT: z
    .stringbool()
    .default(false)
    .describe(
      'Write message content (prompts, answers, tool arguments and results) in logs, for debugging. Credentials stay redacted.',
    ),
} as const;
