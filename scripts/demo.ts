/**
 * `npm run demo`: talks to a running AgentLedger (`npm start`) like a business system would. It
 * opens a session on the example team, follows the session's SSE stream, sends one message, prints
 * the conversation as it streams, and exits when the turn ends.
 *
 * AGENTLEDGER_URL (default http://127.0.0.1:3000), AGENTLEDGER_API_KEY (default: the development
 * key in .data/dev-api-key), DEMO_TEAM (default support-team), DEMO_MESSAGE.
 */
import { readFile } from 'node:fs/promises';

const url = process.env.AGENTLEDGER_URL ?? 'http://127.0.0.1:3000';
const team = process.env.DEMO_TEAM ?? 'support-team';
const message = process.env.DEMO_MESSAGE ?? 'What is 12 * 3?';
const key =
  process.env.AGENTLEDGER_API_KEY ??
  (await readFile(`${process.env.DATA_DIR ?? '.data'}/dev-api-key`, 'utf8').catch(() => '')).trim();
if (!key) {
  console.error('No API key: start AgentLedger first (npm start) or set AGENTLEDGER_API_KEY.');
  process.exit(1);
}
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

const call = async (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...extra },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((error: unknown) => {
    console.error(`Cannot reach ${url} (${String(error)}): is \`npm start\` running?`);
    process.exit(1);
  });
  const text = await response.text();
  if (!response.ok) {
    console.error(`${method} ${path} → ${response.status}\n${text}`);
    process.exit(1);
  }
  return JSON.parse(text) as Record<string, unknown>;
};

type Envelope = { version: number; type: string; data: Record<string, unknown> };

const print = (event: Envelope): boolean => {
  const d = event.data;
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

const { sessionId } = (await call('POST', '/v1/sessions', { teamId: team })) as { sessionId: string };
console.log(`session ${sessionId} on team ${team} at ${url}`);

const stream = await fetch(`${url}/v1/sessions/${sessionId}/stream`, {
  headers: { authorization: headers.authorization, accept: 'text/event-stream' },
});
if (!stream.ok || !stream.body) {
  console.error(`stream → ${stream.status}`);
  process.exit(1);
}
await call(
  'POST',
  `/v1/sessions/${sessionId}/messages`,
  { content: message },
  { 'idempotency-key': `demo-${sessionId}` },
);

const decoder = new TextDecoder();
let buffer = '';
const deadline = setTimeout(() => {
  console.error('no end of turn within 60 s');
  process.exit(1);
}, 60_000);
for await (const chunk of stream.body) {
  buffer += decoder.decode(chunk, { stream: true });
  let end: number;
  while ((end = buffer.indexOf('\n\n')) >= 0) {
    const frame = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    const data = frame
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (data && print(JSON.parse(data) as Envelope)) {
      clearTimeout(deadline);
      const state = await call('GET', `/v1/sessions/${sessionId}`);
      console.log(`session ${sessionId}: ${String(state.status)}, version ${String(state.version)}`);
      process.exit(0);
    }
  }
}
