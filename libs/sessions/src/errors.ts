import { AgentLedgerError } from '@agentledger/events';

/** The worker's lease was taken by another replica: its append was rejected and changed nothing. */
export class LeaseLost extends AgentLedgerError {
  readonly sessionId: string;
  readonly epoch: number;

  constructor(sessionId: string, epoch: number) {
    super('LEASE_LOST', `lease epoch ${epoch} of session ${sessionId} is no longer current`);
    this.sessionId = sessionId;
    this.epoch = epoch;
  }
}

/** No session with that id for that tenant (another tenant's session is not found either). */
export class SessionNotFound extends AgentLedgerError {
  readonly sessionId: string;

  constructor(sessionId: string) {
    super('SESSION_NOT_FOUND', `session ${sessionId} not found`);
    this.sessionId = sessionId;
  }
}

/** A list cursor this server did not issue. */
export class InvalidCursor extends AgentLedgerError {
  constructor() {
    super('INVALID_CURSOR', 'cursor is not one this server issued');
  }
}
