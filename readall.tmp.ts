import { createPostgresEventStore } from '@agentledger/events/postgres';
const store = await createPostgresEventStore({ connectionString: process.env.DATABASE_URL!, migrate: false });
const t0 = performance.now(); const c0 = process.cpuUsage();
let after = 0, n = 0;
for (;;) { const page = await store.readAll({ after, limit: 10_000 }); if (page.length === 0) break; n += page.length; after = page.at(-1)!.globalPosition; }
const c = process.cpuUsage(c0);
console.log(`readAll ${n} in ${((performance.now() - t0) / 1000).toFixed(2)} s wall, cpu ${((c.user + c.system) / 1e6).toFixed(2)} s`);
await store.close();
