/**
 * A business system that keeps a human in the loop, with `@agentledger/client`: it puts a team
 * whose calculator calls need approval, sends a message and waits for the turn, approves each
 * pending tool call, and prints the answer and the audit verdict.
 *
 *   npm start                                   # in another terminal
 *   node --conditions=@agentledger/source examples/approve-tool-calls.ts "What is 7 * 6?"
 *
 * AGENTLEDGER_URL (default http://127.0.0.1:3000), AGENTLEDGER_API_KEY (default: .data/dev-api-key).
 */
import { readFile } from 'node:fs/promises';
import { createAgentLedgerClient } from '@agentledger/client';

const apiKey =
  process.env.AGENTLEDGER_API_KEY ?? (await readFile('.data/dev-api-key', 'utf8').catch(() => '')).trim();
const client = createAgentLedgerClient({
  baseUrl: process.env.AGENTLEDGER_URL ?? 'http://127.0.0.1:3000',
  apiKey,
});

const example = JSON.parse(await readFile(new URL('./support-team.json', import.meta.url), 'utf8')) as {
  agents: Record<string, unknown>[];
};
await client.putTeam('careful-support', {
  ...example,
  agents: example.agents.map((agent) => ({ ...agent, approvalRequired: ['calculator'] })),
});
const { sessionId } = await client.createSession({ teamId: 'careful-support' });

// The idempotency key makes this safe to re-run after a crash: the message is recorded once.
let result = await client.postMessage(sessionId, process.argv[2] ?? 'What is 7 * 6?', {
  wait: 60,
  idempotencyKey: `${sessionId}/first-message`,
});
while (result.outcome === 'turn_ended' && result.turn.status === 'awaiting_approval') {
  const { pending } = await client.getSession(sessionId);
  for (const call of pending.approvals) {
    console.log(`approving ${call.agent}: ${call.name}(${call.arguments})`);
    await client.decideApproval(sessionId, call.toolCallId, { approve: true, reason: 'example' });
  }
  const state = await client.getSession(sessionId);
  result = { outcome: 'turn_ended', turn: state };
  if (state.status === 'running') {
    for await (const item of client.streamEvents(sessionId, { after: state.version }))
      if (item.kind === 'event' && item.event.type.startsWith('Turn')) break;
    result = { outcome: 'turn_ended', turn: await client.getSession(sessionId) };
  }
}
if (result.outcome === 'turn_ended')
  for (const m of result.turn.messages) console.log(`${m.source}: ${m.content}`);
console.log('audit', await client.auditSession(sessionId));
// The session as a self-verifying bundle (NDJSON), e.g. to archive it or import it elsewhere.
const bundle = await client.exportSession(sessionId);
console.log('bundle', bundle.trim().split('\n').length, 'lines');
