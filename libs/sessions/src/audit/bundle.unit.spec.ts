import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BundleRejected, readBundle, type BundleProblem } from './bundle.ts';
import { createCheckpointSigner } from './checkpoints.ts';

const text = readFileSync(
  fileURLToPath(new URL('./__golden__/round-robin-calculator.v1.ndjson', import.meta.url)),
  'utf8',
);
const lines = text.trimEnd().split('\n');
const manifest = JSON.parse(lines[0]!) as Record<string, unknown>;
const withManifest = (over: Record<string, unknown>): string =>
  [JSON.stringify({ ...manifest, ...over }), ...lines.slice(1)].join('\n');

const problemOf = (bundle: string): BundleProblem => {
  try {
    readBundle(bundle, undefined);
  } catch (error) {
    expect(error).toBeInstanceOf(BundleRejected);
    return (error as BundleRejected).problems[0]!;
  }
  throw new Error('the bundle was accepted');
};

describe('readBundle', () => {
  it('accepts the recorded bundle; signatures with an unknown key are counted, not trusted', () => {
    const read = readBundle(text, undefined);
    expect(read.events).toHaveLength(14);
    expect(read).toMatchObject({ signaturesVerified: 0, signaturesUnverified: 2 });
    const goldenKey = createCheckpointSigner({
      keyId: 'golden-2026',
      publicKeyPem: readFileSync(
        fileURLToPath(new URL('./__golden__/golden-2026.pub.pem', import.meta.url)),
        'utf8',
      ),
    });
    expect(readBundle(text, goldenKey)).toMatchObject({ signaturesVerified: 2, signaturesUnverified: 0 });
  });

  it('names the manifest field at fault', () => {
    expect(problemOf('')).toMatchObject({ field: 'manifest', message: 'the bundle is empty' });
    expect(problemOf('{"format":')).toMatchObject({ field: 'manifest' });
    expect(problemOf(withManifest({ formatVersion: 2 }))).toMatchObject({ field: 'manifest.format' });
    expect(problemOf(withManifest({ eventCount: 0 }))).toMatchObject({ field: 'manifest.eventCount' });
    expect(problemOf(withManifest({ streamId: 'session-tenant-b/golden-rr' }))).toMatchObject({
      field: 'manifest.streamId',
    });
    expect(problemOf(withManifest({ headHash: 'f'.repeat(64) }))).toMatchObject({
      field: 'manifest.headHash',
      version: 14,
    });
    expect(problemOf(withManifest({ spec: { name: 'another' } }))).toMatchObject({ field: 'manifest.spec' });
    expect(
      problemOf(withManifest({ checkpoints: [{ ...(manifest.checkpoints as object[])[0], version: 3 }] })),
    ).toMatchObject({ field: 'manifest.checkpoints[0]', version: 3 });
  });

  it('names the version of an event that is not JSON, extra, missing or out of its stream', () => {
    const at = (index: number, line: string) =>
      [lines[0], ...lines.slice(1).map((l, i) => (i === index ? line : l))].join('\n');
    expect(problemOf(at(3, '{"version":4'))).toMatchObject({ field: 'events[3]', version: 4 });
    expect(problemOf(`${text}${lines[14]}\n`)).toMatchObject({ field: 'events', version: 15 });
    expect(problemOf(lines.slice(0, 10).join('\n'))).toMatchObject({ field: 'events', version: 10 });
    expect(
      problemOf(at(5, lines[6]!.replace('"tenantId":"tenant-a"', '"tenantId":"tenant-b"'))),
    ).toMatchObject({
      field: 'events[5]',
      version: 6,
    });
    const swapped = [lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n');
    expect(problemOf(swapped)).toMatchObject({ field: 'events[0]', version: 1 });
  });
});
