/**
 * Tools for the orchestrator e2e tests, loaded by orchestrator processes through TOOLS_MODULE
 * (Node runs this file with its type stripping). Each call counts an execution in a `ledger` table
 * keyed by the idempotency key (table: `ledger-table.ts`), so tests can prove every tool call ran
 * exactly once, and which replica ran each execution.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import { defineTool } from '@agentledger/agents';

const pool = new pg.Pool({ connectionString: process.env.LEDGER_DATABASE_URL, max: 2 });
pool.on('error', () => undefined);

/**
 * Counts one execution of `tool` under `key`. Like a business system's client, it retries its own
 * write while the database is unreachable (the chaos run stops Postgres for seconds), for up to
 * 30 s or until the call is aborted. Each execution carries its own run id, so a retried write
 * (whose first attempt may have committed before the connection broke) still counts once.
 */
const record = async (key: string, tool: string, signal?: AbortSignal): Promise<number> => {
  const run = `${process.env.REPLICA_ID ?? '?'} at ${new Date().toISOString()} (${randomUUID().slice(0, 8)})`;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { rows } = await pool.query<{ executions: number }>(
        `insert into ledger (key, tool, executions, runs) values ($1, $2, 1, array[$3::text])
         on conflict (key) do update set
           executions = ledger.executions + case when $3::text = any(ledger.runs) then 0 else 1 end,
           runs = case when $3::text = any(ledger.runs) then ledger.runs else ledger.runs || $3::text end
         returning executions`,
        [key, tool, run],
      );
      return rows[0]!.executions;
    } catch (error) {
      if (attempt >= 60 || signal?.aborted === true) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
};

const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(new Error('aborted'))), {
      once: true,
    });
  });

export const tools = [
  defineTool({
    name: 'ledger',
    description: 'Records a line in the ledger (idempotent: the business system dedupes by key)',
    parameters: z.object({ text: z.string() }),
    idempotent: true,
    requiresApproval: false,
    execute: async ({ text }, ctx) =>
      `ledger ${text} #${await record(ctx.idempotencyKey, 'ledger', ctx.signal)}`,
  }),
  defineTool({
    name: 'charge',
    description: 'Charges a card (not idempotent); the charge lands, then the call takes a while to answer',
    parameters: z.object({ text: z.string() }),
    idempotent: false,
    requiresApproval: false,
    execute: async ({ text }, ctx) => {
      const executions = await record(ctx.idempotencyKey, 'charge', ctx.signal);
      await pause(Number(process.env.CHARGE_DELAY_MS ?? 0), ctx.signal);
      return `charged ${text} #${executions}`;
    },
  }),
  defineTool({
    name: 'sleeper',
    description:
      'Sleeps for SLEEPER_MS (default 20 s); when its signal aborts it notes the key in the ledger',
    parameters: z.object({ text: z.string() }),
    idempotent: true,
    requiresApproval: false,
    timeoutMs: 60_000,
    execute: async ({ text }, ctx) => {
      await record(ctx.idempotencyKey, 'sleeper-started', ctx.signal);
      try {
        await pause(Number(process.env.SLEEPER_MS ?? 20_000), ctx.signal);
      } catch (error) {
        await record(`${ctx.idempotencyKey}:aborted`, 'sleeper-aborted');
        throw error;
      }
      return `slept on ${text}`;
    },
  }),
  defineTool({
    name: 'refund',
    description: 'Refunds a charge (not idempotent); teams list it under approvalRequired',
    parameters: z.object({ text: z.string() }),
    idempotent: false,
    requiresApproval: true,
    execute: async ({ text }, ctx) =>
      `refunded ${text} #${await record(ctx.idempotencyKey, 'refund', ctx.signal)}`,
  }),
];
