/**
 * `npm run demo`: talks to a running AgentLedger (`npm start`) like a business system would, with
 * `@agentledger/client`. It opens a session on the example team, follows the session's SSE stream
 * (resuming by itself if the connection drops), sends one message, prints the conversation as it
 * streams, and exits when the turn ends.
 *
 * AGENTLEDGER_URL (default http://127.0.0.1:3000), AGENTLEDGER_API_KEY (default: the development
 * key in .data/dev-api-key), DEMO_TEAM (default support-team), DEMO_MESSAGE.
 */
import { readFile } from 'node:fs/promises';
import { createAgentLedgerClient, ProblemError, type EventEnvelope } from '@agentledger/client';

const url = process.env.AGENTLEDGER_URL ?? 'http://127.0.0.1:3000';
const team = process.env.DEMO_TEAM ?? 'support-team';
const message = process.env.DEMO_MESSAGE ?? 'What is 12 * 3?';
const apiKey =
  process.env.AGENTLEDGER_API_KEY ??
  (await readFile(`${process.env.DATA_DIR ?? '.data'}/dev-api-key`, 'utf8').catch(() => '')).trim();
if (!apiKey) {
  console.error('No API key: start AgentLedger first (npm start) or set AGENTLEDGER_API_KEY.');
  process.exit(1);
}
const client = createAgentLedgerClient({ baseUrl: url, apiKey });

const fail = (error: unknown): never => {
  if (error instanceof ProblemError)
    console.error(`${error.status} ${error.problem.title}: ${error.problem.detail}`);
  else console.error(`Cannot reach ${url} (${String(error)}): is \`npm start\` running?`);
  process.exit(1);
};

/** Prints one event; true at the end of the turn. */
const print = (event: EventEnvelope): boolean => {
  const d = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'UserMessageReceived':
      console.log(`user: ${String(d.content)}`);
      break;
    case 'SpeakerSelected':
      console.log(`  (${String(d.agent)} speaks)`);
      break;
    case 'ToolCallRequested':
      console.log(`  ${String(d.agent)} calls ${String(d.name)}(${String(d.arguments)})`);
      break;
    case 'ToolCallCompleted':
      console.log(`  → ${String(d.result)}`);
      break;
    case 'AgentMessageEmitted':
      console.log(`${String(d.agent)}: ${String(d.content)}`);
      break;
    case 'TurnCompleted':
    case 'TurnFailed':
    case 'TurnCancelled':
      console.log(`[${event.type}${d.reason ? `: ${String(d.reason)}` : ''}]`);
      return true;
  }
  return false;
};

const { sessionId } = await client.createSession({ teamId: team }).catch(fail);
console.log(`session ${sessionId} on team ${team} at ${url}`);

const deadline = setTimeout(() => {
  console.error('no end of turn within 60 s');
  process.exit(1);
}, 60_000);
let sent = false;
try {
  for await (const item of client.streamEvents(sessionId)) {
    if (!sent) {
      // The stream is open (SessionStarted came first): nothing of the turn can be missed now.
      sent = true;
      await client.postMessage(sessionId, message, { idempotencyKey: `demo-${sessionId}` });
    }
    if (item.kind === 'event' && print(item.event)) break;
  }
} catch (error) {
  fail(error);
}
clearTimeout(deadline);
const state = await client.getSession(sessionId).catch(fail);
console.log(`session ${sessionId}: ${state.status}, version ${state.version}`);
process.exit(0);
