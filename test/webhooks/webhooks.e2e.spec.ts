import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAgentLedgerClient } from '@agentledger/client';
import { demoAnswer, type ModelMessage, type ModelRequest } from '@agentledger/agents';
import { eventually } from '@agentledger/testing';
import { createOrchestratorWorld, type OrchestratorWorld } from '../support/orchestrator-world.ts';
import { startWebhookReceiver, type ReceivedWebhook } from './webhook-receiver.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const KEY = 'webhooks-e2e-key';
const OUTAGE_MS = 30_000;
const SECRETS_KEY = randomBytes(32).toString('base64');

type Gateway = Readonly<{ url: string; child: ChildProcess; output: () => string }>;

// The distributed product: a gateway process (it runs the deliverer) and an orchestrator replica on
// Postgres and Kafka. A business system registers a webhook and receives turn completions and
// approval requests, signed, through a 30 s outage of its endpoint and a SIGKILL of the gateway.
describe('webhooks in distributed mode', () => {
  let world: OrchestratorWorld;
  let gateway: Gateway | undefined;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let secret = '';

  const startGateway = async (): Promise<Gateway> => {
    let output = '';
    const child = spawn(process.execPath, ['apps/gateway/dist/main.js'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_NO_WARNINGS: '1',
        DATABASE_URL: world.env.DATABASE_URL,
        KAFKA_PARTITIONS: '12',
        PORT: '0',
        GRPC_PORT: '0',
        AGENTLEDGER_API_KEYS: `acme:${KEY}`,
        // the receiver is on 127.0.0.1: the operator allows private addresses for this deployment
        WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
        WEBHOOK_SECRETS_KEY: SECRETS_KEY,
        WEBHOOK_INITIAL_BACKOFF_MS: '250',
        WEBHOOK_MAX_BACKOFF_MS: '2000',
        WEBHOOK_TIMEOUT_MS: '2000',
        WEBHOOK_LEASE_MS: '4000',
        WEBHOOK_POLL_INTERVAL_MS: '200',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = await eventually(
      'the gateway to listen',
      () => {
        if (child.exitCode !== null) throw new Error(`gateway exited: ${output}`);
        return /AgentLedger gateway: (http:\/\/\S+)/.exec(output)?.[1];
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    return { url, child, output: () => output };
  };

  const call = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${gateway!.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${KEY}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  /** Starts a session and asks a question: the agent calls the calculator, which needs approval. */
  const ask = async (sessionId: string): Promise<void> => {
    expect((await call('POST', '/v1/sessions', { teamId: 'careful', sessionId })).status).toBe(201);
    expect(
      (await call('POST', `/v1/sessions/${sessionId}/messages`, { content: 'What is 12 * 3?' })).status,
    ).toBe(202);
  };

  const approve = async (sessionId: string): Promise<void> => {
    const toolCallId = await eventually(
      `${sessionId} to await approval`,
      async () => {
        const state = (await (await call('GET', `/v1/sessions/${sessionId}`)).json()) as {
          pending: { approvals: { toolCallId: string }[] };
        };
        return state.pending.approvals[0]?.toolCallId;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(
      (await call('POST', `/v1/sessions/${sessionId}/approvals/${toolCallId}`, { approve: true })).status,
    ).toBeLessThan(300);
  };

  const turnCompleted = (sessionId: string) =>
    eventually(
      `${sessionId}'s turn to complete`,
      async () => {
        const state = (await (await call('GET', `/v1/sessions/${sessionId}`)).json()) as { status: string };
        return state.status === 'idle' ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );

  /** Each session's acknowledged webhooks, first receipt per delivery id, in arrival order. */
  const arrived = (sessions: readonly string[]): Map<string, string[]> => {
    const seen = new Set<string>();
    const bySession = new Map<string, string[]>(sessions.map((s) => [s, []]));
    for (const w of receiver.acknowledged) {
      if (seen.has(w.id) || !bySession.has(w.sessionId)) continue;
      seen.add(w.id);
      bySession.get(w.sessionId)!.push(w.type);
    }
    return bySession;
  };

  const allArrive = (sessions: readonly string[]) =>
    eventually(
      `approval requests and turn completions of ${sessions.join(', ')}`,
      () => {
        const got = arrived(sessions);
        return [...got.values()].every((types) => types.length === 2) ? got : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );

  /** Every receipt of one delivery id is the same message (body byte for byte). */
  const duplicatesShareIds = (received: readonly ReceivedWebhook[]): void => {
    const bodies = new Map<string, Set<string>>();
    for (const w of received) bodies.set(w.id, (bodies.get(w.id) ?? new Set()).add(w.body));
    expect([...bodies.values()].every((set) => set.size === 1)).toBe(true);
  };

  beforeAll(async () => {
    world = await createOrchestratorWorld({
      adminUrl: inject('databaseUrl'),
      brokers: inject('kafkaBrokers'),
      runId: inject('runId'),
      name: 'webhooks',
    });
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
    await world.start('replica-a');
    gateway = await startGateway();
    receiver = await startWebhookReceiver(() => secret);
    const spec = JSON.parse(await readFile(`${root}examples/support-team.json`, 'utf8')) as {
      agents: Record<string, unknown>[];
    };
    spec.agents[0]!.approvalRequired = ['calculator'];
    expect((await call('PUT', '/v1/teams/careful', spec)).status).toBe(200);
    // the business system registers its endpoint with the client package
    const client = createAgentLedgerClient({ baseUrl: gateway.url, apiKey: KEY });
    const created = await client.putWebhook('crm', {
      url: receiver.url,
      events: ['TurnCompleted'],
      statuses: ['awaiting_approval'],
    });
    expect(created.secret).toMatch(/^whsec_/);
    secret = created.secret!;
  }, 120_000);

  afterAll(async () => {
    gateway?.child.kill('SIGKILL');
    await receiver?.close();
    await world?.close();
  });

  it('delivers a signed approval request, then the turn completion', async () => {
    await ask('s-first');
    await approve('s-first');
    expect((await allArrive(['s-first'])).get('s-first')).toEqual(['ToolApprovalRequested', 'TurnCompleted']);
    expect(receiver.rejected()).toBe(0);
  }, 120_000);

  it('survives the receiver being down for 30 s: everything arrives after, in order per session', async () => {
    await receiver.down();
    const downSince = Date.now();
    const sessions = ['s-down-1', 's-down-2', 's-down-3'];
    for (const s of sessions) await ask(s);
    for (const s of sessions) await approve(s);
    for (const s of sessions) await turnCompleted(s);
    const failing = await eventually(
      'failed attempts while the receiver is down',
      async () => {
        const metrics = await (await fetch(`${gateway!.url}/metrics`)).text();
        return /agentledger_webhook_deliveries_total\{tenant="acme",endpoint="crm",outcome="failed"\} [1-9]/.test(
          metrics,
        )
          ? metrics
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(failing).toMatch(/agentledger_webhook_backlog\{tenant="acme",endpoint="crm",status="pending"\}/);
    // the outage lasts 30 s (the scenario, not an assertion): attempts keep failing meanwhile
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - downSince))));
    await receiver.up();
    const got = await allArrive(sessions);
    for (const s of sessions) expect(got.get(s)).toEqual(['ToolApprovalRequested', 'TurnCompleted']);
    duplicatesShareIds(receiver.received);
    const client = createAgentLedgerClient({ baseUrl: gateway!.url, apiKey: KEY });
    expect((await client.listWebhookDeliveries('crm', { status: 'dead' })).items).toEqual([]);
  }, 180_000);

  it('loses nothing when the delivering gateway is SIGKILLed mid-batch; resent deliveries keep their id', async () => {
    receiver.settings.holdMs = 3_000;
    const sessions = ['s-kill-1', 's-kill-2', 's-kill-3', 's-kill-4'];
    const before = receiver.received.length;
    for (const s of sessions) await ask(s);
    const inFlight = await eventually(
      'deliveries in flight at the receiver',
      () => {
        const held = receiver.received.slice(before).filter((w) => sessions.includes(w.sessionId));
        return held.length >= 2 ? held : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    gateway!.child.kill('SIGKILL');
    await new Promise((resolve) => gateway!.child.once('exit', resolve));
    const killedOutput = gateway!.output();
    receiver.settings.holdMs = 0;
    gateway = await startGateway();
    for (const s of sessions) await approve(s);
    const got = await allArrive(sessions);
    for (const s of sessions) expect(got.get(s)).toEqual(['ToolApprovalRequested', 'TurnCompleted']);
    const killedIds = new Set(inFlight.map((w) => w.id));
    const acknowledgedIds = new Set(receiver.acknowledged.map((w) => w.id));
    expect([...killedIds].every((id) => acknowledgedIds.has(id))).toBe(true);
    expect(receiver.received.filter((w) => killedIds.has(w.id)).length).toBeGreaterThan(killedIds.size);
    duplicatesShareIds(receiver.received);
    // the secret never reaches a log or the event log
    expect(killedOutput + gateway!.output()).not.toContain(secret);
    const { rows } = await world.store.pool.query<{ n: string }>(
      'select count(*) as n from events where data::text like $1 or metadata::text like $1',
      [`%${secret.slice(6, 30)}%`],
    );
    expect(Number(rows[0]!.n)).toBe(0);
    // at rest it is sealed with the operator's key
    const stored = await world.store.pool.query<{ secret: string }>('select secret from webhook_endpoints');
    expect(stored.rows.map((r) => r.secret.startsWith('sealed:v1:'))).toEqual([true]);
    expect(JSON.stringify(stored.rows)).not.toContain(secret.slice(6));
  }, 180_000);
});
