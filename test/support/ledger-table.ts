/**
 * The `ledger` table the e2e tools (`ledger-tools.ts`) write: executions per idempotency key, and
 * `runs`, which replica ran each execution and when (what a failure names when a tool ran twice).
 */
export const LEDGER_TABLE = `create table ledger (
  key text primary key,
  tool text not null,
  executions int not null,
  runs text[] not null default '{}'
)`;
