import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { replayDecisions, type SessionEvent } from '@agentledger/agents';
import { DESK_MCP_SERVER_PATH } from '@agentledger/agents/testing';
import { eventually } from '@agentledger/testing';
import { createOrchestratorWorld, type OrchestratorWorld } from '../support/orchestrator-world.ts';

// Distributed mode: an orchestrator process configured with AGENTLEDGER_MCP_SERVERS runs a pinned MCP
// tool of a registered stdio server (its token passed from the operator's env var).
describe('an orchestrator process calls MCP tools of registered servers', () => {
  let world: OrchestratorWorld;

  beforeAll(async () => {
    world = await createOrchestratorWorld({
      adminUrl: inject('databaseUrl'),
      brokers: inject('kafkaBrokers'),
      runId: inject('runId'),
      name: 'mcp',
      env: {
        DESK_SECRET: 'desk-operator-token',
        AGENTLEDGER_MCP_SERVERS: JSON.stringify({
          desk: {
            command: process.execPath,
            args: [DESK_MCP_SERVER_PATH],
            env: { DESK_TOKEN: { env: 'DESK_SECRET' } },
          },
        }),
      },
    });
    await world.start('replica-mcp');
  });

  afterAll(async () => {
    await world?.close();
  });

  it('runs the pinned tool and records it like any tool call; the session replays', async () => {
    const echo = {
      server: 'desk',
      name: 'echo',
      description: 'Echoes its text',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      idempotent: true,
    };
    await world.startSession('mcp-echo', 'ledger', 'enqueue', {
      tools: [],
      mcp: [{ server: 'desk' }],
      mcpTools: [echo],
    });
    await world.post('mcp-echo', 'hello desk');
    const completed = await eventually('the MCP tool call to complete', async () =>
      (await world.events('mcp-echo')).find((e) => e.type === 'ToolCallCompleted'),
    );
    expect(completed.data).toMatchObject({ toolCallId: 't1.s1.m1.t0', result: 'echo: hello desk' });
    await eventually('the turn to complete', async () =>
      ((await world.completedTurns()).get('mcp-echo') ?? 0) >= 1 ? true : undefined,
    );
    const events = (await world.events('mcp-echo')) as unknown as SessionEvent[];
    expect(replayDecisions(events)).toMatchObject({ matches: true });
  });
});
