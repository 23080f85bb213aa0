import { AgentLedgerError } from '@agentledger/events/errors';

/**
 * Rejected intents. Each has a stable `code` the edges map to a status (409, 404, 400) and is never
 * retryable: retrying the same command against the same state gives the same answer.
 */
export class SessionCommandRejected extends AgentLedgerError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = 'SessionCommandRejected';
  }
}

/** The command does not fit the session's state (e.g. a message to a session not started). */
export class IllegalSessionState extends SessionCommandRejected {
  constructor(message: string) {
    super('illegal_session_state', message);
    this.name = 'IllegalSessionState';
  }
}

/** A message arrived while a turn runs and the team's `onBusy` policy is `reject` (409). */
export class SessionBusy extends SessionCommandRejected {
  constructor(sessionId: string) {
    super('session_busy', `session ${sessionId} is running a turn and its onBusy policy is reject`);
    this.name = 'SessionBusy';
  }
}

/** The session is closed for good (409). */
export class SessionClosedError extends SessionCommandRejected {
  constructor(sessionId: string) {
    super('session_closed', `session ${sessionId} is closed`);
    this.name = 'SessionClosedError';
  }
}

/** An approval for a tool call that does not exist (404). */
export class UnknownToolCall extends SessionCommandRejected {
  constructor(toolCallId: string) {
    super('tool_call_not_found', `no tool call ${toolCallId} in this session`);
    this.name = 'UnknownToolCall';
  }
}
