import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  computeEventHash,
  createInMemoryEventStore,
  GENESIS_HASH,
  sessionStreamId,
  type EventEnvelope,
  type NewEvent,
} from '@agentledger/events';
import {
  createCheckpointSigner,
  createInMemoryCheckpointStore,
  createInMemorySessionIndex,
  createSessionEngine,
} from '@agentledger/sessions';
import { describe, expect, it } from 'vitest';
import {
  EXPORT_USAGE,
  IMPORT_USAGE,
  runExportCommand,
  runImportCommand,
  type SessionCliOpener,
} from './bundle-commands.ts';
import { DIFF_USAGE, FORK_USAGE, runDiffCommand, runForkCommand } from './fork-diff-commands.ts';

const golden = JSON.parse(
  readFileSync(
    fileURLToPath(
      new URL(
        '../../../../libs/agents/src/core/session/__golden__/round-robin-calculator.json',
        import.meta.url,
      ),
    ),
    'utf8',
  ),
) as NewEvent[];

const signer = createCheckpointSigner({
  keyId: 'k1',
  privateKeyPem: generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
});

/** One installation: an in-memory store, read model and checkpoints, and the CLI's output captured. */
const installation = (checkSpec = (): { path: string; message: string }[] => []) => {
  const store = createInMemoryEventStore();
  const index = createInMemorySessionIndex();
  const engine = createSessionEngine({ store, index, partitions: 1 });
  const checkpoints = createInMemoryCheckpointStore();
  const open: SessionCliOpener = async () => ({
    store,
    streamIdOf: engine.streamIdOf,
    checkpoints,
    signer,
    engine,
    checkSpec,
    close: async () => undefined,
  });
  const out: string[] = [];
  const err: string[] = [];
  const written: string[] = [];
  let input = '';
  const io = {
    out: (l: string) => out.push(l),
    err: (l: string) => err.push(l),
    write: (t: string) => written.push(t),
    readInput: async () => input,
  };
  return {
    store,
    engine,
    checkpoints,
    open,
    io,
    out,
    err,
    written,
    feed: (text: string) => {
      input = text;
    },
  };
};

const recordGolden = async (at: ReturnType<typeof installation>) => {
  const streamId = sessionStreamId('tenant-a', 'golden-rr');
  await at.store.append(streamId, golden, { tenantId: 'tenant-a', expectedVersion: 'no_stream' });
  const head = (await at.store.readStream(streamId, { tenantId: 'tenant-a' })).at(-1)!;
  await at.checkpoints.save(
    signer.sign({ tenant: 'tenant-a', streamId, version: head.version, hash: head.hash }, new Date()),
  );
};

describe('agentledger export / import', () => {
  it('moves a session to another installation with the same hashes; a changed byte is refused naming the version', async () => {
    const source = installation();
    await recordGolden(source);
    expect(
      await runExportCommand(['export', 'golden-rr', '--tenant', 'tenant-a'], source.open, source.io),
    ).toBe(0);
    const bundle = source.written.join('');

    const target = installation();
    const lines = bundle.split('\n');
    lines[8] = lines[8]!.replace('"result":"36"', '"result":"37"');
    target.feed(lines.join('\n'));
    expect(await runImportCommand(['import'], target.open, target.io)).toBe(1);
    expect(target.err.join('\n')).toMatch(/events\[7\] \(version 8\): version 8 does not verify/);
    expect(
      await target.store.readStream(sessionStreamId('tenant-a', 'golden-rr'), { tenantId: 'tenant-a' }),
    ).toEqual([]);

    target.feed(bundle);
    expect(await runImportCommand(['import', '--json'], target.open, target.io)).toBe(0);
    expect(JSON.parse(target.out.at(-1)!)).toMatchObject({
      tenantId: 'tenant-a',
      rehashed: false,
      duplicate: false,
      checkpoints: { imported: 1, unverified: 0 },
    });
    expect(
      await runExportCommand(['export', 'golden-rr', '--tenant', 'tenant-a'], target.open, target.io),
    ).toBe(0);
    expect(target.written.join('')).toBe(bundle);

    expect(await runImportCommand(['import', '--tenant', 'tenant-b'], target.open, target.io)).toBe(0);
    expect(target.out.at(-1)).toMatch(
      /^imported tenant-b\/golden-rr: 14 events, head [0-9a-f]{64} \(mapped from/,
    );
    expect((await target.engine.load('tenant-b', 'golden-rr'))?.tenantId).toBe('tenant-b');
  });

  it('refuses what is not a bundle, and a spec the operator’s check refuses', async () => {
    const source = installation();
    await recordGolden(source);
    await runExportCommand(['export', 'golden-rr', '--tenant', 'tenant-a'], source.open, source.io);
    const strict = installation(() => [{ path: '/agents/0/tools', message: 'unknown tool "calculator"' }]);
    strict.feed(source.written.join(''));
    expect(await runImportCommand(['import'], strict.open, strict.io)).toBe(1);
    expect(strict.err).toEqual(['bundle refused: manifest.spec.agents.0.tools: unknown tool "calculator"']);
    strict.feed('not json\n');
    expect(await runImportCommand(['import'], strict.open, strict.io)).toBe(1);
    expect(strict.err.at(-1)).toMatch(/not a bundle manifest/);
  });

  it('refuses a re-chained bundle whose decisions are not today’s, or that starts the session twice', async () => {
    const source = installation();
    await recordGolden(source);
    await runExportCommand(['export', 'golden-rr', '--tenant', 'tenant-a'], source.open, source.io);
    /** The bundle with events edited and the chain and head recomputed (no signatures left to catch it). */
    const rechained = (edit: (events: EventEnvelope[]) => EventEnvelope[]) => {
      const [first, ...lines] = source.written.join('').trimEnd().split('\n');
      let prevHash = GENESIS_HASH;
      const events = edit(lines.map((line) => JSON.parse(line) as EventEnvelope)).map((e, i) => {
        const body = { ...e, version: i + 1 };
        const hash = computeEventHash(prevHash, body);
        const out = { ...body, prevHash, hash };
        prevHash = hash;
        return JSON.stringify(out);
      });
      const manifest = { ...(JSON.parse(first!) as object), headHash: prevHash, eventCount: events.length };
      return `${[JSON.stringify({ ...manifest, checkpoints: [], keyId: null }), ...events].join('\n')}\n`;
    };
    const target = installation();
    target.feed(
      rechained((events) =>
        events.map((e) =>
          e.version === 13 ? { ...e, data: { ...(e.data as object), content: 'Done: 37. TERMINATE' } } : e,
        ),
      ),
    );
    expect(await runImportCommand(['import'], target.open, target.io)).toBe(1);
    expect(target.err.at(-1)).toMatch(
      /^bundle refused: events\[\d+\] \(version \d+\): decision replay diverges/,
    );
    target.feed(
      rechained((events) => [...events, { ...events[0]!, eventId: '01a2250a-0000-7000-8000-000000000001' }]),
    );
    expect(await runImportCommand(['import'], target.open, target.io)).toBe(1);
    expect(target.err.at(-1)).toBe(
      'bundle refused: events[14] (version 15): version 15 starts the session again',
    );
    expect(await target.engine.load('tenant-a', 'golden-rr')).toBeUndefined();
  });

  it('prints usage with --help on every command', async () => {
    const at = installation();
    for (const [run, command, usage] of [
      [runExportCommand, 'export', EXPORT_USAGE],
      [runImportCommand, 'import', IMPORT_USAGE],
      [runForkCommand, 'fork', FORK_USAGE],
      [runDiffCommand, 'diff', DIFF_USAGE],
    ] as const) {
      expect(await run([command, '--help'], at.open, at.io)).toBe(0);
      expect(at.out.at(-1)).toBe(usage);
    }
  });
});

describe('agentledger fork / diff', () => {
  it('forks at a version; diff finds the first divergent version and what each side did', async () => {
    const at = installation();
    await recordGolden(at);
    expect(
      await runForkCommand(['fork', 'golden-rr', '--tenant', 'tenant-a', '--at', '9'], at.open, at.io),
    ).toBe(0);
    expect(at.out.at(-1)).toBe('forked golden-rr@9 -> golden-rr-fork-9 (idle)');
    expect(
      await runForkCommand(['fork', 'golden-rr', '--tenant', 'tenant-a', '--at', '9'], at.open, at.io),
    ).toBe(0);
    expect(at.out.at(-1)).toMatch(/^already forked/);
    expect(
      await runForkCommand(['fork', 'golden-rr', '--tenant', 'tenant-a', '--at', '99'], at.open, at.io),
    ).toBe(2);

    // the fork is the parent's prefix: they agree so far
    expect(
      await runDiffCommand(
        ['diff', 'golden-rr', 'golden-rr-fork-9', '--tenant', 'tenant-a', '--json'],
        at.open,
        at.io,
      ),
    ).toBe(0);
    expect(JSON.parse(at.out.at(-1)!)).toMatchObject({ firstDivergentVersion: 10, diverged: false });

    await at.engine.handle(
      {
        type: 'PostUserMessage',
        data: { messageId: 'm-fork', content: 'And 7 * 6?' },
        metadata: { commandId: 'c1', correlationId: 'c1', now: new Date('2026-01-02T00:00:00Z') },
      },
      { tenantId: 'tenant-a', sessionId: 'golden-rr-fork-9' },
    );
    expect(
      await runDiffCommand(['diff', 'golden-rr', 'golden-rr-fork-9', '--tenant', 'tenant-a'], at.open, at.io),
    ).toBe(1);
    const text = at.out.join('\n');
    expect(text).toContain('first divergent version 10:');
    expect(text).toContain('  golden-rr: SpeakerSelected');
    expect(text).toContain('  golden-rr-fork-9: UserMessageReceived: user: And 7 * 6?');
    expect(text).toMatch(/golden-rr: 5 event\(s\) from version 10 to 14, status idle/);

    // a fork of a fork pins the first session's spec: it exports and imports like any session
    expect(
      await runForkCommand(['fork', 'golden-rr-fork-9', '--tenant', 'tenant-a', '--at', '2'], at.open, at.io),
    ).toBe(0);
    expect(
      await runExportCommand(['export', 'golden-rr-fork-9-fork-2', '--tenant', 'tenant-a'], at.open, at.io),
    ).toBe(0);
    const manifest = JSON.parse(at.written.join('').split('\n')[0]!) as { spec: unknown; teamId: string };
    expect(manifest).toMatchObject({ teamId: 'support', spec: (golden[0]!.data as { spec: unknown }).spec });
    const elsewhere = installation();
    elsewhere.feed(at.written.join(''));
    expect(await runImportCommand(['import', '--json'], elsewhere.open, elsewhere.io)).toBe(0);
    expect(JSON.parse(elsewhere.out.at(-1)!)).toMatchObject({
      sessionId: 'golden-rr-fork-9-fork-2',
      eventCount: 1,
    });
  });
});
