import type { SessionState } from './api.ts';

/** The session as it stood at the slider's version (`GET /v1/sessions/{id}?at=N`). */
export const StatePanel = ({ state }: { state: SessionState }) => (
  <div class="state" data-testid="state-at-version">
    <dl>
      <dt>Status</dt>
      <dd>
        <span class={`status status-${state.status}`} data-testid="state-status">
          {state.status}
        </span>
      </dd>
      <dt>Messages</dt>
      <dd>{state.messages.length}</dd>
      <dt>Tokens</dt>
      <dd>
        {state.usage.promptTokens} prompt · {state.usage.completionTokens} completion
      </dd>
      <dt>Pending</dt>
      <dd data-testid="state-pending">
        {[
          ...state.pending.approvals.map((a) => `approval of ${a.name} (${a.agent})`),
          ...state.pending.toolCalls.map((t) => `tool ${t.name} (${t.agent})`),
          ...state.pending.modelCalls.map((m) => `model call (${m.agent})`),
        ].join(', ') || 'nothing'}
      </dd>
    </dl>
    {state.messages.length > 0 && (
      <ol class="messages">
        {state.messages.map((message) => (
          <li key={message.id}>
            <span class="source">{message.source}</span> {message.content}
          </li>
        ))}
      </ol>
    )}
  </div>
);
