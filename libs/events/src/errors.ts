/**
 * The one base error of AgentLedger. `code` is stable (edges map it to HTTP / gRPC statuses);
 * `retryable` says whether repeating the same operation may succeed.
 */
export class AgentLedgerError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, options?: { retryable?: boolean; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }
}

/** An append's expected version did not match the stream's version; nothing was written. */
export class StreamVersionConflict extends AgentLedgerError {
  readonly streamId: string;
  readonly expected: number | 'no_stream';
  readonly actual: number;

  constructor(streamId: string, expected: number | 'no_stream', actual: number) {
    super('STREAM_VERSION_CONFLICT', `stream ${streamId}: expected version ${expected}, actual ${actual}`, {
      retryable: true,
    });
    this.streamId = streamId;
    this.expected = expected;
    this.actual = actual;
  }
}

/** The stream exists under another tenant: tenants are walls, so nothing was written. */
export class StreamTenantMismatch extends AgentLedgerError {
  readonly streamId: string;

  constructor(streamId: string) {
    super('STREAM_TENANT_MISMATCH', `stream ${streamId} belongs to another tenant`);
    this.streamId = streamId;
  }
}

/** The stream was deleted by retention (it has a tombstone): its id is never used again. */
export class StreamDeleted extends AgentLedgerError {
  readonly streamId: string;

  constructor(streamId: string) {
    super('STREAM_DELETED', `stream ${streamId} was deleted by retention; its id is not reused`);
    this.streamId = streamId;
  }
}

/** An event to append is malformed (bad event id, unserialisable data, duplicate event id…). */
export class InvalidEvent extends AgentLedgerError {
  constructor(message: string, cause?: unknown) {
    super('INVALID_EVENT', message, { cause });
  }
}

/** A PGlite data directory is already open in another live process. */
export class DataDirectoryLocked extends AgentLedgerError {
  readonly dataDir: string;

  constructor(dataDir: string, pid: number) {
    super('DATA_DIRECTORY_LOCKED', `data directory ${dataDir} is in use by process ${pid}`);
    this.dataDir = dataDir;
  }
}
