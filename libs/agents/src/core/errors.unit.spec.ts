import { describe, expect, it } from 'vitest';
import { AgentLedgerError } from '@agentledger/events/errors';
import { UnsupportedComponent } from './autogen/autogen-import.ts';
import {
  IllegalSessionState,
  SessionBusy,
  SessionClosedError,
  SessionCommandRejected,
  UnknownToolCall,
} from './errors.ts';
import { InvalidTeamSpec } from './spec/parse-team-spec.ts';

/** What an edge reads off an error: its class name, stable code, retryability and message. */
const fields = (error: Error & { code: string; retryable: boolean }) => ({
  name: error.name,
  code: error.code,
  retryable: error.retryable,
  message: error.message,
});

describe('rejected session commands', () => {
  it('carry the code and message they are given, never retryable', () => {
    const error = new SessionCommandRejected('some_code', 'some message');
    expect(fields(error)).toStrictEqual({
      name: 'SessionCommandRejected',
      code: 'some_code',
      retryable: false,
      message: 'some message',
    });
  });

  it('each kind has its own name, code and message, and is a rejected command', () => {
    const errors = [
      new IllegalSessionState('session not started'),
      new SessionBusy('s-1'),
      new SessionClosedError('s-1'),
      new UnknownToolCall('call-7'),
    ];
    expect(errors.every((e) => e instanceof SessionCommandRejected)).toBe(true);
    // One taxonomy: the edges and the SQL adapter's translation see the one base error.
    expect(errors.every((e) => e instanceof AgentLedgerError)).toBe(true);
    expect(errors.map(fields)).toStrictEqual([
      {
        name: 'IllegalSessionState',
        code: 'illegal_session_state',
        retryable: false,
        message: 'session not started',
      },
      {
        name: 'SessionBusy',
        code: 'session_busy',
        retryable: false,
        message: 'session s-1 is running a turn and its onBusy policy is reject',
      },
      {
        name: 'SessionClosedError',
        code: 'session_closed',
        retryable: false,
        message: 'session s-1 is closed',
      },
      {
        name: 'UnknownToolCall',
        code: 'tool_call_not_found',
        retryable: false,
        message: 'no tool call call-7 in this session',
      },
    ]);
  });
});

describe('rejected specs', () => {
  it('an unsupported AutoGen component names each path and provider, separated by "; "', () => {
    const error = new UnsupportedComponent([
      { path: '$.config', provider: 'a.B', message: 'first' },
      { path: '$', provider: '(none)', message: 'second' },
    ]);
    expect(fields(error)).toStrictEqual({
      name: 'UnsupportedComponent',
      code: 'unsupported_component',
      retryable: false,
      message: 'cannot run this AutoGen component: $.config (a.B): first; $ ((none)): second',
    });
  });

  it('an invalid team spec names each field, "(root)" for the spec itself, separated by "; "', () => {
    const error = new InvalidTeamSpec([
      { path: 'agents.0.name', message: 'bad name' },
      { path: '', message: 'not an object' },
    ]);
    expect(fields(error)).toStrictEqual({
      name: 'InvalidTeamSpec',
      code: 'invalid_team_spec',
      retryable: false,
      message: 'invalid team spec: agents.0.name: bad name; (root): not an object',
    });
  });
});
