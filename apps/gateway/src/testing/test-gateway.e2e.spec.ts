import { describe, expect, it } from 'vitest';
import { sessionStreamId } from '@agentledger/events';
import { rejection } from '@agentledger/testing';
import { KEYS, request, startSession, startTestGateway } from './test-gateway.ts';

describe('the test gateway replays every session it recorded when it closes', () => {
  it('fails the suite, naming the session and the version, when a recorded decision is not today’s', async () => {
    const gateway = await startTestGateway();
    await startSession(gateway, KEYS.a, 'honest');
    await startSession(gateway, KEYS.a, 'forged');
    const posted = await request(gateway, 'POST', '/v1/sessions/forged/messages', {
      key: KEYS.a,
      body: { content: 'Hello' },
    });
    expect(posted.status).toBe(202);
    // A decision no decider made, appended past the decider (as a buggy writer or an edit would).
    const { versions } = await gateway.store.append(
      sessionStreamId('tenant-a', 'forged'),
      [{ type: 'TurnCompleted', data: { turn: 1 } }],
      { tenantId: 'tenant-a', expectedVersion: 'any' },
    );
    const error = (await rejection(gateway.close())) as Error;
    expect(error.message).toContain('decision replay failed for 1 of 2 sessions');
    expect(error.message).toContain(`session forged (tenant tenant-a) diverges at version ${versions[0]}`);
    expect(error.message).not.toContain('session honest');
  });
});
