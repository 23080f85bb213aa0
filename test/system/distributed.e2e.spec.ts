import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { demoAnswer, type ModelMessage, type ModelRequest } from '@agentledger/agents';
import { eventually } from '@agentledger/testing';
import { createOrchestratorWorld, type OrchestratorWorld } from '../support/orchestrator-world.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const KEY = 'system-test-key';

// The distributed product as operators run it: the gateway process and two orchestrator replicas on
// Postgres and Kafka, driven by the demo client over REST and SSE.
describe('distributed mode: gateway + two orchestrators', () => {
  let world: OrchestratorWorld;
  let gateway: ChildProcess | undefined;
  let gatewayOutput = '';
  let url: string;

  beforeAll(async () => {
    world = await createOrchestratorWorld({
      adminUrl: inject('databaseUrl'),
      brokers: inject('kafkaBrokers'),
      runId: inject('runId'),
      name: 'system',
    });
    // The OpenAI-compatible endpoint answers like the built-in scripted model (calculator, then TERMINATE).
    world.fake.setFallback((raw) => {
      const body = raw as {
        messages: { role: string; content?: string | null }[];
        tools?: { function: { name: string } }[];
      };
      const request = {
        messages: body.messages.map((m) => ({
          role: m.role,
          content: m.content ?? null,
        })) as unknown as ModelMessage[],
        tools: (body.tools ?? []).map((t) => ({ name: t.function.name, description: '', parameters: {} })),
        agent: 'support_agent',
        purpose: 'agent',
        idempotencyKey: 'k',
      } satisfies ModelRequest;
      const answer = demoAnswer(request);
      return { kind: 'message', content: answer.content, toolCalls: answer.toolCalls };
    });
    await Promise.all([world.start('replica-a'), world.start('replica-b')]);
    gateway = spawn(process.execPath, ['apps/gateway/dist/main.js'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_NO_WARNINGS: '1',
        DATABASE_URL: world.env.DATABASE_URL,
        KAFKA_PARTITIONS: '12',
        PORT: '0',
        GRPC_PORT: '0',
        AGENTLEDGER_API_KEYS: `acme:${KEY}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gateway.stdout!.on('data', (chunk: Buffer) => (gatewayOutput += chunk.toString()));
    gateway.stderr!.on('data', (chunk: Buffer) => (gatewayOutput += chunk.toString()));
    url = await eventually(
      'the gateway to listen',
      () => {
        if (gateway!.exitCode !== null) throw new Error(`gateway exited: ${gatewayOutput}`);
        return /AgentLedger gateway: (http:\/\/\S+)/.exec(gatewayOutput)?.[1];
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  });

  afterAll(async () => {
    gateway?.kill('SIGKILL');
    await world?.close();
  });

  it('serves the audit page built with the gateway', async () => {
    const audit = await fetch(`${url}/audit/`);
    expect(audit.status).toBe(200);
    expect(audit.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await audit.text()).toContain('<div id="app"></div>');
  });

  it('runs the demo conversation end to end across processes', async () => {
    const spec = await readFile(`${root}examples/support-team.json`, 'utf8');
    const put = await fetch(`${url}/v1/teams/support-team`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: spec,
    });
    expect(put.status).toBeLessThan(300);

    let output = '';
    const demo = spawn(process.execPath, ['scripts/demo.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_NO_WARNINGS: '1',
        AGENTLEDGER_URL: url,
        AGENTLEDGER_API_KEY: KEY,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => demo.once('exit', resolve));
    expect(output).toContain('support_agent calls calculator({"a":12,"b":3,"operator":"*"})');
    expect(output).toContain('support_agent: Done: 36. TERMINATE');
    expect(code).toBe(0);

    const { rows } = await world.store.pool.query<{ replica: string }>(
      `select distinct metadata->>'replicaId' as replica from events where metadata ? 'replicaId'`,
    );
    expect(rows.length).toBeGreaterThan(0);
  });
});
