// node deploy/measure.mjs: the numbers behind the probe timings and resource sizes in deploy/k8s.
// Starts the built apps (npm run build first) against DATABASE_URL and KAFKA_BROKERS, times each
// start until /health/ready answers 200 (RUNS times per app, after a first start that migrates a
// fresh database and creates the topic), then runs SESSIONS turns on the scripted model through one
// gateway and one orchestrator and reports each process's peak RSS (VmHWM) and CPU seconds.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const root = new URL('../', import.meta.url);
const runs = Number(process.env.RUNS ?? 5);
const sessions = Number(process.env.SESSIONS ?? 40);
const server = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `agentledger_measure_${Date.now()}`;
const databaseUrl = server.replace(/\/[^/]*$/, `/${database}`);
const kafka = { KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' };
const suffix = `${process.pid}-${Date.now()}`;
const orchestratorEnv = {
  ...kafka,
  KAFKA_TOPIC: `agentledger.measure-${suffix}`,
  ORCHESTRATOR_GROUP: `agentledger-measure-${suffix}`,
};

const start = (app, port, env) => {
  const child = spawn(process.execPath, [`apps/${app}/dist/main.js`], {
    cwd: root,
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { child, url: `http://127.0.0.1:${port}` };
};

const untilReady = async ({ child, url }) => {
  const began = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before it was ready`);
    const status = await fetch(`${url}/health/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return Math.round(performance.now() - began);
    await sleep(25);
  }
};

const stop = async ({ child }) => {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
};

const stats = (pid) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return {
    rssMiB: Math.round(kib('VmRSS') / 1024),
    peakMiB: Math.round(kib('VmHWM') / 1024),
    cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100,
  };
};

const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { runs: sorted, min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted.at(-1) };
};

const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`create database ${database}`);
try {
  const gatewayEnv = { PORT: '3180', GRPC_PORT: '0', AGENTLEDGER_API_KEYS: 'measure:measure-key' };
  const timings = { gateway: [], orchestrator: [] };
  for (let run = 0; run <= runs; run += 1) {
    for (const [app, port, env] of [
      ['gateway', 3180, gatewayEnv],
      ['orchestrator', 3181, { ...orchestratorEnv, ORCHESTRATOR_PORT: '3181' }],
    ]) {
      const process_ = start(app, port, env);
      const ms = await untilReady(process_);
      await stop(process_);
      if (run === 0) console.log(`${app}: first start (migrations, topic) ready in ${ms} ms`);
      else timings[app].push(ms);
    }
  }
  console.log(
    'ms until /health/ready = 200:',
    JSON.stringify({ gateway: summary(timings.gateway), orchestrator: summary(timings.orchestrator) }),
  );

  const gateway = start('gateway', 3180, gatewayEnv);
  const orchestrator = start('orchestrator', 3181, { ...orchestratorEnv, ORCHESTRATOR_PORT: '3181' });
  await untilReady(gateway);
  await untilReady(orchestrator);
  const idle = { gateway: stats(gateway.child.pid), orchestrator: stats(orchestrator.child.pid) };
  const call = async (method, path, body, headers = {}) => {
    const response = await fetch(`${gateway.url}${path}`, {
      method,
      headers: { authorization: 'Bearer measure-key', 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    if (response.status >= 300)
      throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  await call(
    'PUT',
    '/v1/teams/support',
    JSON.parse(readFileSync(new URL('examples/support-team.json', root), 'utf8')),
  );
  const began = performance.now();
  await Promise.all(
    Array.from({ length: sessions }, async (_, i) => {
      await call('POST', '/v1/sessions', { teamId: 'support', sessionId: `s-${i}` });
      for (let turn = 0; turn < 3; turn += 1) {
        const answer = await call(
          'POST',
          `/v1/sessions/s-${i}/messages?wait=60`,
          { content: `What is ${i} * ${turn + 2}?` },
          { 'idempotency-key': `m-${i}-${turn}` },
        );
        if (answer.status !== 'idle') throw new Error(`turn ended ${answer.status}`);
      }
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  const loaded = { gateway: stats(gateway.child.pid), orchestrator: stats(orchestrator.child.pid) };
  console.log(`${sessions * 3} turns over ${sessions} concurrent sessions in ${seconds.toFixed(1)} s`);
  console.log('idle after start:', JSON.stringify(idle));
  console.log('after the load:', JSON.stringify(loaded));
  await stop(orchestrator);
  await stop(gateway);
} finally {
  await admin.query(`drop database ${database} with (force)`);
  await admin.end();
}
