import { createServer } from 'node:net';

/** A port nobody listens on right now (the OS picks it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * Starts a process again until it comes up, as a supervisor (systemd, Kubernetes) would: a process
 * that exits because Postgres or the broker is down right then is restarted a moment later.
 */
export const supervised = async <T>(
  name: string,
  log: (line: string) => void,
  start: () => Promise<T>,
): Promise<T> => {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      return await start();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      const lines = (error as Error).message.trim().split('\n');
      log(`${name} did not start (${lines.at(-1)!.slice(0, 240)}); restarting`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
};

/** `level: message` of a JSON log line at warn or above (other lines: undefined). */
export const parseLogLine = (line: string): string | undefined => {
  if (!line.startsWith('{')) return undefined;
  try {
    // The apps log with pino: the text is `msg` (`message` kept for other writers).
    const entry = JSON.parse(line) as { level?: string; msg?: string; message?: string };
    return entry.level === 'warn' || entry.level === 'error'
      ? `${entry.level}: ${String(entry.msg ?? entry.message)
          .replace(/[0-9a-f-]{36}|\d+/g, 'N')
          .slice(0, 120)}`
      : undefined;
  } catch {
    return undefined;
  }
};
