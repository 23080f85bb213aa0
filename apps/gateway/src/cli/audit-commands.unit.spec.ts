import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInMemoryEventStore, sessionStreamId, type NewEvent } from '@agentledger/events';
import {
  createCheckpointSigner,
  createInMemoryCheckpointStore,
  type CheckpointSigner,
} from '@agentledger/sessions';
import { describe, expect, it } from 'vitest';
import { runReplayCommand, runVerifyCommand, type AuditCliOpener } from './audit-commands.ts';

const golden = (name: string): NewEvent[] =>
  JSON.parse(
    readFileSync(
      fileURLToPath(
        new URL(`../../../../libs/agents/src/core/session/__golden__/${name}.json`, import.meta.url),
      ),
      'utf8',
    ),
  ) as NewEvent[];

const setUp = async (signer?: CheckpointSigner) => {
  const store = createInMemoryEventStore();
  const checkpoints = createInMemoryCheckpointStore();
  const record = async (tenant: string, sessionId: string, events: NewEvent[]) => {
    const withId = events.map((e, i) =>
      i === 0 ? { ...e, data: { ...(e.data as object), sessionId, tenantId: tenant } } : e,
    );
    await store.append(sessionStreamId(tenant, sessionId), withId, {
      tenantId: tenant,
      expectedVersion: 'no_stream',
    });
  };
  const open: AuditCliOpener = async () => ({
    store,
    streamIdOf: async (tenant, sessionId) => sessionStreamId(tenant, sessionId),
    checkpoints,
    ...(signer === undefined ? {} : { signer }),
    close: async () => undefined,
  });
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const io = {
    out: (l: string) => out.push(l),
    err: (l: string) => err.push(l),
    progress: (t: string) => progress.push(t),
  };
  return { store, checkpoints, record, open, io, out, err, progress };
};

describe('agentledger replay', () => {
  it('prints the conversation as it stood at --at, from the log alone', async () => {
    const t = await setUp();
    await t.record('acme', 'rr', golden('round-robin-calculator'));
    expect(await runReplayCommand(['replay', 'rr', '--tenant', 'acme', '--at', '8'], t.open, t.io)).toBe(0);
    const text = t.out.join('\n');
    expect(text).toContain('user: What is 12 * 3?');
    expect(text).toContain('calls calculator(');
    expect(text).toContain('-> 36');
    expect(text).not.toContain('TERMINATE');
    expect(t.out.at(-1)).toBe('status running at version 8');

    const later = await setUp();
    await later.record('acme', 'rr', golden('round-robin-calculator'));
    expect(await runReplayCommand(['replay', 'rr', '--tenant', 'acme', '--json'], later.open, later.io)).toBe(
      0,
    );
    expect(JSON.parse(later.out[0]!)).toMatchObject({ version: 14, state: { status: 'idle' } });
  });

  it('shows approvals and handoffs; bad input names the option', async () => {
    const t = await setUp();
    await t.record('acme', 'sw', golden('swarm-handoff-approval'));
    expect(await runReplayCommand(['replay', 'sw', '--tenant', 'acme'], t.open, t.io)).toBe(0);
    expect(t.out.join('\n')).toMatch(
      /approval requested for calculator[\s\S]*approved[\s\S]*handoff refunder -> user/,
    );
    expect(await runReplayCommand(['replay', 'sw', '--tenant', 'acme', '--at', '0'], t.open, t.io)).toBe(2);
    expect(t.err.join('\n')).toContain('--at: a version');
    expect(await runReplayCommand(['replay', 'sw'], t.open, t.io)).toBe(2);
    expect(t.err.join('\n')).toContain('--tenant');
    expect(await runReplayCommand(['replay', '--help'], t.open, t.io)).toBe(0);
    expect(t.out.at(-1)).toMatch(/^usage: agentledger replay/);
  });
});

describe('agentledger verify', () => {
  it('--all checks every session, shows progress, and names each failing session and version', async () => {
    const t = await setUp();
    await t.record('acme', 'ok-1', golden('round-robin-calculator'));
    await t.record('globex', 'ok-2', golden('swarm-handoff-approval'));
    const tampered = golden('swarm-handoff-approval');
    const speaker = tampered.findIndex((e, i) => i > 4 && e.type === 'SpeakerSelected');
    tampered[speaker] = {
      ...tampered[speaker]!,
      data: { ...(tampered[speaker]!.data as object), agent: 'triage' },
    };
    await t.record('acme', 'bad', tampered);

    expect(await runVerifyCommand(['verify', '--all'], t.open, t.io)).toBe(1);
    expect(t.out).toContain(`FAIL acme/bad: decision replay at version ${speaker + 1}`);
    expect(t.out.filter((l) => l.startsWith('FAIL'))).toHaveLength(1);
    expect(t.out.at(-1)).toMatch(
      /^3 sessions, \d+ events verified in .* s \(\d+ sessions\/s, \d+ events\/s; [\d.]+ s of CPU, \d+ events per CPU-second\); checkpoints off; 1 failure/,
    );
    expect(t.progress.join('')).toContain('3/3 sessions');

    const onlyGlobex = await setUp();
    await onlyGlobex.record('acme', 'bad', tampered);
    await onlyGlobex.record('globex', 'ok-2', golden('swarm-handoff-approval'));
    expect(
      await runVerifyCommand(
        ['verify', '--all', '--tenant', 'globex', '--json'],
        onlyGlobex.open,
        onlyGlobex.io,
      ),
    ).toBe(0);
    expect(JSON.parse(onlyGlobex.out[0]!)).toMatchObject({ sessions: 1, failures: [] });
    expect(
      await runVerifyCommand(
        ['verify', '--all', '--since', '2030-01-01', '--json'],
        onlyGlobex.open,
        onlyGlobex.io,
      ),
    ).toBe(0);
    expect(JSON.parse(onlyGlobex.out[1]!)).toMatchObject({ sessions: 0 });
  });

  it('one session: a signed head beyond the stored head (a deleted tail) fails naming the version', async () => {
    const signer = createCheckpointSigner({
      keyId: 'k1',
      privateKeyPem: generateKeyPairSync('ed25519')
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
    });
    const t = await setUp(signer);
    await t.record('acme', 'rr', golden('round-robin-calculator'));
    const [head] = await t.store.readStream(sessionStreamId('acme', 'rr'), {
      tenantId: 'acme',
      fromVersion: 14,
    });
    await t.checkpoints.save(
      signer.sign({ tenant: 'acme', streamId: head!.streamId, version: 14, hash: head!.hash }, new Date()),
    );
    expect(await runVerifyCommand(['verify', 'rr', '--tenant', 'acme'], t.open, t.io)).toBe(0);
    await t.checkpoints.save(
      signer.sign(
        { tenant: 'acme', streamId: head!.streamId, version: 20, hash: 'f'.repeat(64) },
        new Date(),
      ),
    );
    expect(await runVerifyCommand(['verify', 'rr', '--tenant', 'acme'], t.open, t.io)).toBe(1);
    expect(t.out).toContain('FAIL acme/rr: checkpoint beyond_head at version 20');
  });

  it('bad usage exits 2 naming the option; --help prints the usage', async () => {
    const t = await setUp();
    expect(await runVerifyCommand(['verify'], t.open, t.io)).toBe(2);
    expect(await runVerifyCommand(['verify', 'rr'], t.open, t.io)).toBe(2);
    expect(t.err.at(-1)).toContain('--tenant');
    expect(await runVerifyCommand(['verify', '--all', '--since', 'yesterday'], t.open, t.io)).toBe(2);
    expect(t.err.at(-1)).toContain('--since');
    expect(await runVerifyCommand(['verify', '--help'], t.open, t.io)).toBe(0);
    expect(t.out.at(-1)).toMatch(/^usage: agentledger verify/);
  });
});
