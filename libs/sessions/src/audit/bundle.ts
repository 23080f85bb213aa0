import {
  AgentLedgerError,
  canonicalJson,
  parseSessionStreamId,
  verifyChain,
  type EventEnvelope,
} from '@agentledger/events';
import type { Checkpoint, CheckpointSigner } from './checkpoints.ts';

export const BUNDLE_FORMAT = 'agentledger.session-bundle';
export const BUNDLE_FORMAT_VERSION = 1;

/** A signed head as a bundle carries it (tenant and stream are the manifest's). */
export type BundleCheckpoint = Pick<Checkpoint, 'version' | 'hash' | 'keyId' | 'signature' | 'signedAt'>;

/** The first line of a bundle (docs/operations.md, "Export and import"). */
export type BundleManifest = Readonly<{
  format: typeof BUNDLE_FORMAT;
  formatVersion: typeof BUNDLE_FORMAT_VERSION;
  tenantId: string;
  sessionId: string;
  streamId: string;
  teamId: string | null;
  eventCount: number;
  headHash: string;
  specHash: string | null;
  /** The team spec the session pinned (its SessionStarted's, or the fork parent's). */
  spec: unknown;
  /** The key id of the checkpoints' signing key (null without checkpoints). */
  keyId: string | null;
  checkpoints: readonly BundleCheckpoint[];
}>;

export type SessionBundle = Readonly<{ manifest: BundleManifest; events: readonly EventEnvelope[] }>;

/** One reason a bundle was refused: what (a manifest field or `events`), and the version when one is at fault. */
export type BundleProblem = Readonly<{ field: string; version?: number; message: string }>;

/** A bundle that does not verify: nothing of it was stored. */
export class BundleRejected extends AgentLedgerError {
  readonly problems: readonly BundleProblem[];

  constructor(problems: readonly BundleProblem[]) {
    super('BUNDLE_REJECTED', `bundle refused: ${problems.map((p) => p.message).join('; ')}`);
    this.problems = problems;
  }
}

const reject = (field: string, message: string, version?: number): never => {
  throw new BundleRejected([{ field, message, ...(version === undefined ? {} : { version }) }]);
};

type Pinned = Readonly<{ teamId: string | null; spec: unknown; specHash: string | null }>;

type StartEvent = Readonly<{ type?: string; data?: unknown }>;

/** The spec the stream's first event pins (a fork carries its parent's history, a fork of a fork too). */
export const pinnedSpecOf = (first: StartEvent | undefined): Pinned => {
  const data = (first?.data ?? {}) as Record<string, unknown>;
  if (first?.type === 'SessionForked')
    return pinnedSpecOf((data.parentEvents as readonly StartEvent[] | undefined)?.[0]);
  return {
    teamId: typeof data.teamId === 'string' ? data.teamId : null,
    spec: data.spec ?? null,
    specHash: typeof data.specHash === 'string' ? data.specHash : null,
  };
};

/** Strips what is this installation's own (global positions): a bundle re-exported elsewhere is the same text. */
const portable = ({
  globalPosition: _position,
  ...event
}: EventEnvelope): Omit<EventEnvelope, 'globalPosition'> => event;

/** Manifest line, then one event per line, each line canonical JSON, newline-terminated. */
export const writeBundle = (
  sessionId: string,
  events: readonly EventEnvelope[],
  checkpoints: readonly Checkpoint[],
): string => {
  const first = events[0];
  const last = events.at(-1);
  if (first === undefined || last === undefined) throw new TypeError('an empty stream has no bundle');
  const ofHead = checkpoints.filter((c) => c.version <= events.length);
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    tenantId: first.tenantId,
    sessionId,
    streamId: first.streamId,
    ...pinnedSpecOf(first),
    eventCount: events.length,
    headHash: last.hash,
    keyId: ofHead[0]?.keyId ?? null,
    checkpoints: ofHead.map(({ version, hash, keyId, signature, signedAt }) => ({
      version,
      hash,
      keyId,
      signature,
      signedAt,
    })),
  };
  // Canonical JSON (keys sorted): the same session gives the same bytes from any store.
  return [manifest, ...events.map(portable)].map((line) => `${canonicalJson(line)}\n`).join('');
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const parseLine = (line: string, field: string, version?: number): Record<string, unknown> => {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return reject(field, `${field} is not JSON`, version);
  }
  return isObject(value) ? value : reject(field, `${field} is not a JSON object`, version);
};

const readManifest = (line: string | undefined): BundleManifest => {
  if (line === undefined || line.trim() === '') return reject('manifest', 'the bundle is empty');
  const m = parseLine(line, 'manifest');
  if (m.format !== BUNDLE_FORMAT || m.formatVersion !== BUNDLE_FORMAT_VERSION)
    reject('manifest.format', `not a ${BUNDLE_FORMAT} version ${BUNDLE_FORMAT_VERSION}`);
  for (const field of ['tenantId', 'sessionId', 'streamId', 'headHash'] as const)
    if (typeof m[field] !== 'string') reject(`manifest.${field}`, `manifest.${field} must be a string`);
  if (!Number.isSafeInteger(m.eventCount) || (m.eventCount as number) < 1)
    reject('manifest.eventCount', 'manifest.eventCount must be a positive integer');
  if (!Array.isArray(m.checkpoints)) reject('manifest.checkpoints', 'manifest.checkpoints must be a list');
  const ref = parseSessionStreamId(m.streamId as string);
  if (
    ref === undefined ||
    ref.sessionId !== m.sessionId ||
    (ref.tenantId !== undefined && ref.tenantId !== m.tenantId)
  )
    reject('manifest.streamId', 'manifest.streamId does not name the manifest’s tenant and session');
  return m as unknown as BundleManifest;
};

/**
 * Parses a bundle and verifies everything it claims before anything is stored: every event names
 * the manifest's stream and tenant, the hash chain recomputes to the manifest's head (a truncated
 * bundle names the first missing version, an edited one the version whose hash no longer
 * matches), the pinned spec is the manifest's, each checkpoint signs the hash at its version and,
 * when `signer` holds its key id, its signature verifies. Throws {@link BundleRejected}.
 */
export const readBundle = (
  text: string,
  signer: CheckpointSigner | undefined,
): SessionBundle & Readonly<{ signaturesVerified: number; signaturesUnverified: number }> => {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const manifest = readManifest(lines[0]);
  const events = lines.slice(1).map((line, index) => {
    const event = parseLine(line, `events[${index}]`, index + 1) as unknown as EventEnvelope;
    return { ...event, globalPosition: 0 };
  });
  for (const [index, event] of events.entries()) {
    const version = index + 1;
    if (event.streamId !== manifest.streamId || event.tenantId !== manifest.tenantId)
      reject(`events[${index}]`, `version ${version} names another stream or tenant`, version);
  }
  if (events.length < manifest.eventCount)
    reject(
      'events',
      `truncated: version ${events.length + 1} of ${manifest.eventCount} is missing`,
      events.length + 1,
    );
  if (events.length > manifest.eventCount)
    reject(
      'events',
      `version ${manifest.eventCount + 1} is beyond manifest.eventCount`,
      manifest.eventCount + 1,
    );
  const chain = verifyChain(manifest.streamId, events, {
    version: manifest.eventCount,
    hash: manifest.headHash,
  });
  if (!chain.valid) {
    const version = chain.firstBrokenVersion!;
    if (chain.reason === 'head_mismatch')
      reject('manifest.headHash', 'manifest.headHash is not the hash of the last event', manifest.eventCount);
    reject(`events[${version - 1}]`, `version ${version} does not verify (${chain.reason})`, version);
  }
  const pinned = pinnedSpecOf(events[0]);
  if (
    canonicalJson(pinned.spec) !== canonicalJson(manifest.spec ?? null) ||
    pinned.specHash !== manifest.specHash
  )
    reject('manifest.spec', 'manifest.spec is not the spec the session pinned');
  let signaturesVerified = 0;
  let signaturesUnverified = 0;
  for (const [index, c] of manifest.checkpoints.entries()) {
    const field = `manifest.checkpoints[${index}]`;
    if (!isObject(c) || !Number.isSafeInteger(c.version) || typeof c.signature !== 'string')
      reject(field, `${field} is not a checkpoint`);
    if (c.version < 1 || c.version > events.length || events[c.version - 1]?.hash !== c.hash)
      reject(field, `the checkpoint of version ${c.version} does not sign that event's hash`, c.version);
    if (signer === undefined || c.keyId !== signer.keyId) {
      signaturesUnverified += 1;
      continue;
    }
    const checkpoint = { ...c, tenant: manifest.tenantId, streamId: manifest.streamId };
    if (!signer.verify(checkpoint))
      reject(field, `the signature of version ${c.version} does not verify`, c.version);
    signaturesVerified += 1;
  }
  return { manifest, events, signaturesVerified, signaturesUnverified };
};
