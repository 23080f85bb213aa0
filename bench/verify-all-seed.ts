import { readFileSync } from 'node:fs';
import { sessionStreamId, type NewEvent } from '@agentledger/events';
import { createPostgresEventStore, ensureDatabase } from '@agentledger/events/postgres';

/**
 * Seeds `verify --all`'s measurement: SESSIONS copies of the round-robin golden stream (14 events),
 * appended directly through the store (no model path), into DATABASE_URL. Then time
 * `node apps/gateway/dist/cli.js verify --all` against the same DATABASE_URL.
 */
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/agentledger_verify_bench';
const sessions = Number(process.env.SESSIONS ?? 10_000);
const golden = JSON.parse(
  readFileSync(
    new URL('../libs/agents/src/core/session/__golden__/round-robin-calculator.json', import.meta.url),
    'utf8',
  ),
) as NewEvent[];
await ensureDatabase(url);
const store = await createPostgresEventStore({ connectionString: url, migrate: true });
const tenants = ['acme', 'globex'];
const started = performance.now();
const batch = 50;
for (let i = 0; i < sessions; i += batch) {
  await Promise.all(
    Array.from({ length: Math.min(batch, sessions - i) }, async (_, k) => {
      const tenantId = tenants[(i + k) % tenants.length]!;
      const sessionId = `bench-${i + k}`;
      const events = golden.map((e, n) =>
        n === 0 ? { ...e, data: { ...(e.data as object), sessionId, tenantId } } : e,
      );
      await store.append(sessionStreamId(tenantId, sessionId), events, {
        tenantId,
        expectedVersion: 'no_stream',
      });
    }),
  );
}
console.log(
  `${sessions} sessions (${sessions * golden.length} events) seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
await store.close();
