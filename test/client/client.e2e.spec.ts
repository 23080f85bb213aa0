import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAgentLedgerClient,
  ProblemError,
  type AgentLedgerClient,
  type EventEnvelope,
} from '@agentledger/client';
import { eventually } from '@agentledger/testing';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { startStandalone, type StandaloneProcess } from '../support/standalone-process.ts';

const TURN_ENDS = new Set(['TurnCompleted', 'TurnFailed', 'TurnCancelled']);

/** Collects a session's stream in the background until the n-th end of turn. */
const collect = (client: AgentLedgerClient, sessionId: string, turns = 1) => {
  const events: EventEnvelope[] = [];
  const stop = new AbortController();
  const done = (async () => {
    let ended = 0;
    for await (const item of client.streamEvents(sessionId, { signal: stop.signal })) {
      if (item.kind !== 'event') continue;
      events.push(item.event);
      if (TURN_ENDS.has(item.event.type) && ++ended === turns) return;
    }
  })();
  return { events, done, stop: () => stop.abort() };
};

// The client against the live embedded product (scripted model), through a proxy that injects
// network faults: a full conversation with a tool approval, a stream cut mid-way, a lost answer.
describe('@agentledger/client against a live gateway', () => {
  let app: StandaloneProcess;
  let proxy: FaultProxy;
  let client: AgentLedgerClient;

  beforeAll(async () => {
    app = await startStandalone();
    proxy = await startFaultProxy(app.url);
    client = createAgentLedgerClient({ baseUrl: proxy.url, apiKey: app.apiKey, retry: { baseDelayMs: 20 } });
    const example = JSON.parse(await readFile('examples/support-team.json', 'utf8')) as {
      agents: Record<string, unknown>[];
    };
    await client.putTeam('support', example);
    await client.putTeam('careful', {
      ...example,
      agents: example.agents.map((agent) => ({ ...agent, approvalRequired: ['calculator'] })),
    });
  }, 330_000);

  afterAll(async () => {
    await proxy?.close();
    await app?.stop();
  });

  it('holds a conversation with a tool approval, then reads, audits, forks and closes the session', async () => {
    const { sessionId } = await client.createSession({ teamId: 'careful', sessionId: 'conv-1' });
    const stream = collect(client, sessionId);

    const waited = await client.postMessage(sessionId, 'What is 12 * 3?', { wait: 30 });
    expect(waited).toMatchObject({ outcome: 'turn_ended', turn: { status: 'awaiting_approval' } });
    const pending = await client.getSession(sessionId);
    expect(pending.pending.approvals).toMatchObject([
      { name: 'calculator', arguments: '{"a":12,"b":3,"operator":"*"}' },
    ]);
    const awaitingAt = pending.version;

    await client.decideApproval(sessionId, pending.pending.approvals[0]!.toolCallId, { approve: true });
    await stream.done;
    expect(stream.events.map((e) => e.version)).toEqual(stream.events.map((_, i) => i + 1));
    expect(stream.events.map((e) => e.type)).toContain('ToolCallCompleted');
    expect(stream.events.at(-1)!.type).toBe('TurnCompleted');

    const state = await client.getSession(sessionId);
    expect(state.status).toBe('idle');
    expect(state.messages.map((m) => m.content).join('\n')).toContain('36');
    expect((await client.getSession(sessionId, { at: awaitingAt })).status).toBe('awaiting_approval');
    const listed = await client.listSessions({ teamId: 'careful' });
    expect(listed.items.map((s) => s.sessionId)).toEqual([sessionId]);
    const past = { teamId: 'careful', createdAfter: '2000-01-01', createdBefore: '2000-01-02' };
    expect((await client.listSessions(past)).items).toEqual([]);
    const since = await client.listSessions({ teamId: 'careful', createdAfter: listed.items[0]!.createdAt });
    expect(since.items.map((s) => s.sessionId)).toEqual([sessionId]);
    const logged: EventEnvelope[] = [];
    for await (const event of client.allEvents(sessionId)) logged.push(event);
    expect(logged.map((e) => e.hash)).toEqual(stream.events.map((e) => e.hash));
    expect(await client.auditSession(sessionId)).toMatchObject({
      eventCount: state.version,
      hashChainValid: true,
      replayMatches: true,
    });

    const fork = await client.forkSession(sessionId, { atVersion: awaitingAt, sessionId: 'conv-1-fork' });
    expect(fork.sessionId).toBe('conv-1-fork');
    expect((await client.getSession('conv-1-fork')).messages.map((m) => m.content)).toEqual([
      'What is 12 * 3?',
    ]);
    expect((await client.closeSession(sessionId)).status).toBe('closed');
    const refused = await client.postMessage(sessionId, 'again?').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ProblemError);
    expect((refused as ProblemError).status).toBe(409);

    const { sessionId: other } = await client.createSession({ teamId: 'careful', sessionId: 'conv-2' });
    await client.postMessage(other, 'What is 1 + 1?', { wait: 30 });
    await client.cancelTurn(other, 'not needed');
    await eventually('the turn to be cancelled', async () =>
      (await client.listEvents(other, { limit: 1000 })).events.find((e) => e.type === 'TurnCancelled'),
    );
  });

  it('resumes the stream from the last event after the connection drops mid-stream', async () => {
    const { sessionId } = await client.createSession({ teamId: 'support', sessionId: 'resume-1' });
    const events: EventEnvelope[] = [];
    let cut = 0;
    for await (const item of client.streamEvents(sessionId)) {
      if (item.kind !== 'event') continue;
      events.push(item.event);
      if (item.event.version === 1) {
        cut = proxy.dropStreams();
        await client.postMessage(sessionId, 'What is 6 * 7?');
      }
      if (TURN_ENDS.has(item.event.type)) break;
    }
    expect(cut).toBe(1);
    expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)!.type).toBe('TurnCompleted');
    const streams = proxy.requests.filter((r) => r.url === `/v1/sessions/${sessionId}/stream`);
    expect(streams.map((r) => r.headers['last-event-id'])).toEqual([undefined, '1']);
  });

  it('retries a message whose answer was lost with the same idempotency key: one message recorded', async () => {
    const { sessionId } = await client.createSession({ teamId: 'support', sessionId: 'retry-1' });
    const path = `/v1/sessions/${sessionId}/messages`;
    proxy.dropNextResponse((r) => r.method === 'POST' && r.url === path);

    const answer = await client.postMessage(sessionId, 'What is 2 + 2?');

    const posts = proxy.requests.filter((r) => r.method === 'POST' && r.url === path);
    expect(posts).toHaveLength(2);
    expect(posts[1]!.headers['idempotency-key']).toBe(posts[0]!.headers['idempotency-key']);
    const received = await eventually('the turn to end', async () => {
      const page = await client.listEvents(sessionId, { limit: 1000 });
      return page.events.some((e) => TURN_ENDS.has(e.type)) ? page.events : undefined;
    });
    const messages = received.filter((e) => e.type === 'UserMessageReceived');
    expect(messages).toHaveLength(1);
    expect(answer).toMatchObject({ outcome: 'accepted', accepted: { version: messages[0]!.version } });
  });

  it('exports a session as an NDJSON bundle and imports it into a second installation, once; a tampered bundle is a 422', async () => {
    const { sessionId } = await client.createSession({ teamId: 'support', sessionId: 'export-1' });
    await client.postMessage(sessionId, 'What is 5 * 5?', { wait: 30 });
    const audit = await client.auditSession(sessionId);

    const bundle = await client.exportSession(sessionId);
    const lines = bundle.trim().split('\n');
    expect(lines).toHaveLength(audit.eventCount + 1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ sessionId, headHash: audit.headHash });
    const events = lines.slice(1).map((line) => JSON.parse(line) as EventEnvelope);
    expect(events.map((e) => e.hash)).toEqual(
      (await client.listEvents(sessionId, { limit: 1000 })).events.map((e) => e.hash),
    );

    // Into the same installation: the session is there already, so the same bundle is a duplicate.
    expect(await client.importSession(bundle)).toMatchObject({ headHash: audit.headHash, duplicate: true });

    // Into a second installation (its own data directory), then the same bundle again.
    const second = await startStandalone();
    try {
      const other = createAgentLedgerClient({ baseUrl: second.url, apiKey: second.apiKey });
      const expected = {
        sessionId,
        eventCount: audit.eventCount,
        headHash: audit.headHash,
        sourceHeadHash: audit.headHash,
        rehashed: false,
      };
      expect(await other.importSession(bundle)).toMatchObject({ ...expected, duplicate: false });
      expect(await other.importSession(bundle)).toMatchObject({ ...expected, duplicate: true });
      expect(await other.auditSession(sessionId)).toMatchObject({
        eventCount: audit.eventCount,
        headHash: audit.headHash,
        hashChainValid: true,
        replayMatches: true,
      });
      expect((await other.getSession(sessionId)).messages).toEqual(
        (await client.getSession(sessionId)).messages,
      );
      expect(await other.exportSession(sessionId)).toBe(bundle);
    } finally {
      await second.stop();
    }

    const tampered = [
      lines[0],
      ...lines.slice(1).map((line) => line.replace('What is 5 * 5?', 'What is 6 * 6?')),
    ];
    const rejected = (await client
      .importSession(`${tampered.join('\n')}\n`)
      .catch((e: unknown) => e)) as ProblemError;
    expect(rejected).toBeInstanceOf(ProblemError);
    expect(rejected.status).toBe(422);
    expect(rejected.problem.errors?.length).toBeGreaterThan(0);
    expect((await client.listEvents(sessionId, { limit: 1000 })).events).toHaveLength(audit.eventCount);
    const missing = (await client.exportSession('no-such-session').catch((e: unknown) => e)) as ProblemError;
    expect(missing).toBeInstanceOf(ProblemError);
    expect(missing.status).toBe(404);
  }, 300_000);

  it('surfaces an error answer as a ProblemError carrying the problem+json', async () => {
    const error = (await client.getSession('no-such-session').catch((e: unknown) => e)) as ProblemError;
    expect(error).toBeInstanceOf(ProblemError);
    expect(error.status).toBe(404);
    expect(error.problem.code).toMatch(/not.found/);
    const invalid = (await client
      .createSession({ teamId: 'bad id!' })
      .catch((e: unknown) => e)) as ProblemError;
    expect(invalid.status).toBe(400);
    expect(invalid.problem.errors?.map((e) => e.field)).toContain('teamId');
  });
});
