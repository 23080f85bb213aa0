import type { EventEnvelope } from './envelope.ts';
import { Unavailable } from './errors.ts';
import type { EventStore } from './store.ts';

export type ReadLogOptions = Readonly<{
  /** One tenant's events only. */
  tenantId?: string;
  /** Events per `readAll` call (default 10,000). */
  pageSize?: number;
  /** How long reads may stay held back before the read gives up (default 60 s). */
  heldBackTimeoutMs?: number;
}>;

/** The first re-read of a held-back read; doubles up to a second. */
const FIRST_RETRY_MS = 10;

/**
 * The whole log as committed when the call starts (one tenant's with `tenantId`), page by page in
 * global order, for the commands that must see all of it (an audit's `verify --all`, a replay of
 * every stored session). `readAll` alone stops short of events that committed above a transaction
 * still running, so "read until an empty page" may silently be part of the log: this reads up to
 * the committed head taken at the start, again and again (10 ms, doubling to 1 s) while held back,
 * and throws `Unavailable` after `heldBackTimeoutMs` rather than answer with part of the log.
 * Events committed after the start are left out.
 */
export async function* readLogToHead(
  store: Pick<EventStore, 'readAll' | 'committedHead'>,
  options: ReadLogOptions = {},
): AsyncGenerator<readonly EventEnvelope[]> {
  const { tenantId, pageSize = 10_000, heldBackTimeoutMs = 60_000 } = options;
  const tenant = tenantId === undefined ? {} : { tenantId };
  const head = await store.committedHead(tenant);
  let after = 0;
  let heldSince: number | undefined;
  let delay = FIRST_RETRY_MS;
  while (after < head) {
    const page = (await store.readAll({ after, limit: pageSize, ...tenant })).filter(
      (event) => event.globalPosition <= head,
    );
    if (page.length > 0) {
      yield page;
      after = page.at(-1)!.globalPosition;
      heldSince = undefined;
      delay = FIRST_RETRY_MS;
      continue;
    }
    heldSince ??= Date.now();
    if (Date.now() - heldSince >= heldBackTimeoutMs)
      throw new Unavailable(
        `the log is held back after position ${after} (committed up to ${head}) by a transaction that ` +
          `has been running for over ${heldBackTimeoutMs / 1000} s; try again when it ends`,
      );
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 1_000);
  }
}
