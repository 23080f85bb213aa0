import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { teamSpecSchema } from '@agentledger/agents';
import { eventually } from '@agentledger/testing';
import { connectGrpc } from '../../apps/gateway/src/testing/grpc-client.ts';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import type { OrchestratorProcess } from '../support/orchestrator-process.ts';
import { createOrchestratorWorld, type OrchestratorWorld } from '../support/orchestrator-world.ts';
import {
  jsonLines,
  metricFamilies,
  partition,
  sample,
  turnTraceId,
  type EventEnvelope,
} from '../support/observability.ts';

const TENANT = 'tenant-e2e';
// Planted values: each must be in play (sent, stored, echoed) and in no log line.
const API_KEY = `al_planted_${randomUUID()}`;
const MODEL_KEY = `sk-planted-${randomUUID()}`;
const PROMPT = `planted prompt ${randomUUID()}`;

const team = (name: string, tool: string) =>
  teamSpecSchema.parse({
    specVersion: 1,
    name,
    type: 'single',
    agents: [
      { name: 'clerk', tools: [tool], model: { provider: 'openai', model: 'fake-model', maxRetries: 0 } },
    ],
  });

// The distributed product (a gateway process and an orchestrator process on Postgres and Kafka)
// runs turns with planted secrets and a planted prompt, with streams open over SSE and gRPC; then
// its logs and both apps' /metrics are read.
describe('observability: logs and metrics of the gateway and orchestrator processes', () => {
  let world: OrchestratorWorld;
  let orchestrator: OrchestratorProcess;
  let gateway: GatewayProcess;
  let gatewayMetricsWhileStreaming = '';
  const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

  const rest = async (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => {
    const response = await fetch(`${gateway.url}${path}`, {
      method,
      headers: { ...headers, ...extra },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    world = await createOrchestratorWorld({
      adminUrl: inject('databaseUrl'),
      brokers: inject('kafkaBrokers'),
      runId: inject('runId'),
      name: 'observability',
      // Slow enough that three sessions contend for the one model call slot.
      modelDelayMs: () => 200,
      env: {
        LOG_LEVEL: 'debug',
        OPENAI_API_KEY: MODEL_KEY,
        MAX_MODEL_CALLS: '1',
        // The consumer-lag-in-offsets gauge needs the high watermark kafkajs reports.
        KAFKA_CLIENT: 'kafkajs',
      },
    });
    orchestrator = await world.start('obs-a');
    gateway = await startGatewayProcess({
      DATABASE_URL: world.env.DATABASE_URL,
      KAFKA_PARTITIONS: '12',
      AGENTLEDGER_API_KEYS: `${TENANT}:${API_KEY}`,
      TOOLS_MODULE: world.env.TOOLS_MODULE!,
      LEDGER_DATABASE_URL: world.env.DATABASE_URL,
      LOG_LEVEL: 'debug',
    });
    expect((await rest('PUT', '/v1/teams/ledger-team', team('ledger-team', 'ledger'))).status).toBeLessThan(
      300,
    );
    // The calculator cannot take the wire model's `{ text }` arguments: a failed tool call.
    expect((await rest('PUT', '/v1/teams/calc-team', team('calc-team', 'calculator'))).status).toBeLessThan(
      300,
    );
    const sessions = { 'obs-1': 'ledger-team', 'obs-2': 'ledger-team', 'obs-3': 'calc-team' };
    for (const [sessionId, teamId] of Object.entries(sessions))
      expect((await rest('POST', '/v1/sessions', { teamId, sessionId })).status).toBe(201);

    // Live streams open while the turns run: SSE on one session, gRPC StreamEvents on another.
    const sse = new AbortController();
    const sseResponse = await fetch(`${gateway.url}/v1/sessions/obs-1/stream`, {
      headers: { authorization: `Bearer ${API_KEY}` },
      signal: sse.signal,
    });
    expect(sseResponse.status).toBe(200);
    const grpc = await connectGrpc(gateway.grpcAddress);
    const stream = grpc.stream('StreamEvents', { session_id: 'obs-2' }, API_KEY);
    stream.on('error', () => undefined);
    await eventually(
      'both streams to be counted open',
      async () => {
        const text = await (await fetch(`${gateway.url}/metrics`)).text();
        const open = metricFamilies(text);
        return sample(open, 'agentledger_streams_open', { transport: 'sse' }) === 1 &&
          sample(open, 'agentledger_streams_open', { transport: 'grpc' }) === 1
          ? (gatewayMetricsWhileStreaming = text)
          : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );

    // The provider's first answer is a 500 that echoes the key and the prompt (a retryable failure).
    world.fake.enqueue({
      kind: 'error',
      status: 500,
      message: `upstream failed for ${MODEL_KEY}: ${PROMPT}`,
    });
    const turns = await Promise.all(
      Object.keys(sessions).map((sessionId) =>
        rest(
          'POST',
          `/v1/sessions/${sessionId}/messages?wait=60`,
          { content: PROMPT },
          { 'idempotency-key': `m-${sessionId}` },
        ),
      ),
    );
    expect(turns.map((turn) => [turn.status, turn.body.status])).toEqual([
      [200, 'idle'],
      [200, 'idle'],
      [200, 'idle'],
    ]);
    await grpc.call('Sessions', 'GetSession', { session_id: 'obs-1' }, API_KEY);
    stream.cancel();
    grpc.close();
    sse.abort();
  });

  afterAll(async () => {
    await gateway?.stop();
    await world?.close();
  });

  it('writes neither planted key nor the planted prompt in any line of either process, though all three were in play', async () => {
    const requests = world.fake.requests;
    expect(requests.some((r) => r.headers.authorization === `Bearer ${MODEL_KEY}`)).toBe(true);
    expect(requests.some((r) => JSON.stringify(r.body).includes(PROMPT))).toBe(true);
    // The content-bearing debug lines were written, with their content redacted.
    await eventually('the orchestrator to log a tool result', () =>
      jsonLines(orchestrator.output()).find((line) => line.msg === 'tool call content'),
    );
    const contentLines = jsonLines(orchestrator.output()).filter((line) => line.msg === 'model call content');
    expect(contentLines.length).toBeGreaterThan(0);
    expect(contentLines.every((line) => line.content === '[Redacted]')).toBe(true);

    for (const output of [gateway.output(), orchestrator.output()]) {
      expect(output).not.toContain(API_KEY);
      expect(output).not.toContain(MODEL_KEY);
      expect(output).not.toContain(PROMPT);
    }
  });

  it('writes JSON lines, with tenant, session, agent, call id and replica on the lines of a turn', async () => {
    const orchestratorLines = jsonLines(orchestrator.output());
    const nonJson = (output: string) =>
      output.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{'));
    expect(nonJson(orchestrator.output())).toEqual([]);
    expect(nonJson(gateway.output())).toEqual([]);

    const turn = orchestratorLines.filter((line) => line.sessionId === 'obs-1');
    expect(turn.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['model call completed', 'tool call finished']),
    );
    for (const line of turn)
      expect(line).toMatchObject({
        tenant: TENANT,
        replica: 'obs-a',
        app: 'orchestrator',
        level: expect.any(String),
      });
    const modelLine = turn.find((line) => line.msg === 'model call completed');
    expect(modelLine).toMatchObject({
      agent: 'clerk',
      callId: expect.any(String),
      model: 'fake-model',
      endpoint: 'default',
    });

    // A request's line is written once its answer is sent.
    const posted = await eventually('the request log line of the turn', () =>
      jsonLines(gateway.output()).find(
        (line) =>
          line.msg === 'request completed' &&
          line.route === '/v1/sessions/:id/messages' &&
          line.sessionId === 'obs-1',
      ),
    );
    expect(posted).toMatchObject({
      tenant: TENANT,
      method: 'POST',
      status: 200,
      app: 'gateway',
      replica: expect.any(String),
      latencyMs: expect.any(Number),
    });
  });

  it("puts the turn's trace id, the one its events carry, on every line of the turn in both processes (no exporter configured)", async () => {
    await eventually('the request log lines of the turns', () =>
      jsonLines(gateway.output()).filter(
        (line) => line.msg === 'request completed' && line.route === '/v1/sessions/:id/messages',
      ).length === 3
        ? true
        : undefined,
    );
    for (const sessionId of ['obs-1', 'obs-2', 'obs-3']) {
      const { body } = await rest('GET', `/v1/sessions/${sessionId}/events?limit=1000`);
      const trace = turnTraceId(body.events as EventEnvelope[]);
      const ofSession = (output: string) => jsonLines(output).filter((line) => line.sessionId === sessionId);
      const gatewayLines = ofSession(gateway.output());
      const orchestratorLines = ofSession(orchestrator.output());
      // The SSE stream held open on obs-1 and this check's own read of the events are requests of
      // their own, with traces of their own (the read's line may be logged before it is looked at).
      const [turnLines, streamLines] = partition(
        gatewayLines,
        (line) => line.route !== '/v1/sessions/:id/stream' && line.route !== '/v1/sessions/:id/events',
      );
      expect(turnLines.map((line) => line.route)).toContain('/v1/sessions/:id/messages');
      expect(orchestratorLines.map((line) => line.msg)).toContain('model call completed');
      for (const line of streamLines) expect(line.traceId).toMatch(/^[0-9a-f]{32}$/);
      for (const lines of [turnLines, orchestratorLines])
        expect(lines.map((line) => [line.msg, line.traceId])).toEqual(lines.map((line) => [line.msg, trace]));
    }
  });

  it('serves every metric family on both apps, with counts where the run exercised them', async () => {
    const gatewayText = await (await fetch(`${gateway.url}/metrics`)).text();
    const orchestratorText = await (await fetch(`${orchestrator.url}/metrics`)).text();
    const gw = metricFamilies(gatewayText);
    const orch = metricFamilies(orchestratorText);

    // Gateway: HTTP and gRPC latency, appends, sessions by status, streams.
    expect(
      sample(gw, 'agentledger_http_request_duration_seconds_count', {
        route: '/v1/sessions/:id/messages',
        status: '200',
        method: 'POST',
      }),
    ).toBe(3);
    expect(
      sample(gw, 'agentledger_grpc_request_duration_seconds_count', {
        method: 'agentledger.v1.Sessions/GetSession',
        code: 'OK',
      }),
    ).toBe(1);
    expect(
      sample(gw, 'agentledger_grpc_request_duration_seconds_count', {
        method: 'agentledger.v1.Sessions/StreamEvents',
      }),
    ).toBe(1);
    expect(sample(gw, 'agentledger_events_appended_total', { type: 'UserMessageReceived' })).toBe(3);
    expect(sample(gw, 'agentledger_event_append_duration_seconds_count')).toBeGreaterThanOrEqual(8);
    expect(sample(gw, 'agentledger_sessions', { status: 'idle' })).toBe(3);
    expect(sample(gw, 'agentledger_streams_open', { transport: 'sse' })).toBe(0);
    expect(
      sample(metricFamilies(gatewayMetricsWhileStreaming), 'agentledger_streams_open', { transport: 'grpc' }),
    ).toBe(1);

    // Orchestrator: appends, relay, consumer lag, sessions, leases, model, tools, flow control, HTTP.
    expect(sample(orch, 'agentledger_events_appended_total')).toBeGreaterThan(10);
    expect(sample(orch, 'agentledger_events_appended_total', { type: 'ModelCallCompleted' })).toBe(3);
    expect(sample(orch, 'agentledger_event_append_duration_seconds_count')).toBeGreaterThan(0);
    expect(sample(orch, 'agentledger_relay_published_events_total')).toBeGreaterThan(20);
    expect(sample(orch, 'agentledger_relay_lag_events')).toBeGreaterThanOrEqual(0);
    expect(sample(orch, 'agentledger_relay_lag_seconds')).toBeGreaterThanOrEqual(0);
    const lagOffsets = orch.get('agentledger_consumer_lag_offsets') ?? [];
    const lagSeconds = orch.get('agentledger_consumer_lag_seconds') ?? [];
    expect(lagOffsets.length).toBeGreaterThan(0);
    expect(lagSeconds.length).toBeGreaterThan(0);
    expect(lagOffsets.every((s) => /^\d+$/.test(s.labels.partition ?? '') && s.value >= 0)).toBe(true);
    expect(lagSeconds.every((s) => s.value >= 0 && s.value < 120)).toBe(true);
    expect(sample(orch, 'agentledger_sessions', { status: 'idle' })).toBe(3);
    expect(sample(orch, 'agentledger_leases_held')).toBe(0);
    expect(sample(orch, 'agentledger_leases_lost_total')).toBe(0);
    const model = { endpoint: 'default', model: 'fake-model' };
    // One call per turn (no reflection on tool use), plus the call that got the 500 and was retried.
    expect(sample(orch, 'agentledger_model_call_duration_seconds_count', model)).toBe(4);
    expect(sample(orch, 'agentledger_model_tokens_total', { ...model, kind: 'prompt' })).toBeGreaterThan(0);
    expect(sample(orch, 'agentledger_model_tokens_total', { ...model, kind: 'completion' })).toBeGreaterThan(
      0,
    );
    expect(sample(orch, 'agentledger_model_errors_total', { ...model, type: 'server_error' })).toBe(1);
    expect(sample(orch, 'agentledger_tool_call_duration_seconds_count', { tool: 'ledger' })).toBe(2);
    expect(sample(orch, 'agentledger_tool_call_duration_seconds_count', { tool: 'calculator' })).toBe(1);
    expect(sample(orch, 'agentledger_tool_errors_total', { tool: 'calculator' })).toBe(1);
    expect(sample(orch, 'agentledger_flow_control_waits_total', { resource: 'model_calls' })).toBeGreaterThan(
      0,
    );
    expect(sample(orch, 'agentledger_flow_control_wait_seconds_count')).toBeGreaterThan(0);
    expect(
      sample(orch, 'agentledger_http_request_duration_seconds_count', {
        route: '/health/ready',
        status: '200',
        method: 'GET',
      }),
    ).toBeGreaterThan(0);
  });
});
