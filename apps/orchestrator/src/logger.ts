import type { Logger } from '@agentledger/events/bus';

const order = { error: 0, warn: 1, info: 2, debug: 3 } as const;

/** One JSON line per entry on stderr, at `level` and above; `fields` must never carry secrets. */
export const createJsonLogger = (
  level: keyof typeof order,
  base: Readonly<Record<string, unknown>>,
): Logger => {
  const write =
    (entryLevel: keyof typeof order) =>
    (message: string, fields?: Readonly<Record<string, unknown>>): void => {
      if (order[entryLevel] > order[level]) return;
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level: entryLevel, ...base, message, ...fields })}\n`,
      );
    };
  return { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug') };
};
