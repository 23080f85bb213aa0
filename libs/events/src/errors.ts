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

/** Where an offending value came from: the JSON body, the query string, the path, a header or gRPC metadata. */
export type FieldLocation = 'body' | 'query' | 'path' | 'header' | 'metadata';

/** One reason a request was rejected, naming the field (and for bodies a JSON pointer to it). */
export type FieldError = Readonly<{ in: FieldLocation; field: string; pointer?: string; message: string }>;

/*
 * The kinds of refusal a use case raises without knowing its transport. Their codes are the stable
 * problem codes clients see (`urn:agentledger:problem:<code>`); each edge maps them in one place.
 */

/** Input that fails validation; `errors` names every offending field. */
export class ValidationFailed extends AgentLedgerError {
  readonly errors: readonly FieldError[];

  constructor(errors: readonly FieldError[]) {
    const fields = [...new Set(errors.map((error) => `${error.in} ${error.field}`))].join(', ');
    super('validation-failed', `Invalid ${fields}`);
    this.errors = errors;
  }
}

/** No valid credential came with the request. */
export class Unauthenticated extends AgentLedgerError {
  constructor(message = 'A valid API key is required: Authorization: Bearer <key>') {
    super('unauthenticated', message);
  }
}

/** The credential is valid but lacks the scope the operation needs. */
export class PermissionDenied extends AgentLedgerError {
  constructor(scope: string) {
    super('permission-denied', `The API key lacks the scope ${scope}`);
  }
}

export type ResourceKind = 'session' | 'team' | 'route' | 'tool call' | 'webhook' | 'delivery';

/** Unknown, or another tenant's: the answer never confirms that someone else's resource exists. */
export class NotFound extends AgentLedgerError {
  constructor(kind: ResourceKind, id: string) {
    super('not-found', kind === 'route' ? `No route ${id}` : `No ${kind} ${JSON.stringify(id)}`);
  }
}

/** The resource's state refuses the operation (closed, already exists…); repeating it will not help. */
export class Conflict extends AgentLedgerError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/**
 * A concurrent change to the same data won (a unique key taken in a race, a serialization failure or
 * deadlock): nothing was changed, and repeating the operation may succeed.
 */
export class ConcurrentChange extends AgentLedgerError {
  constructor(cause?: unknown) {
    super('CONCURRENT_CHANGE', 'A concurrent change to this resource won: retry the request', {
      retryable: true,
      cause,
    });
  }
}

/** An idempotency key came back with a different request. */
export class IdempotencyKeyReused extends AgentLedgerError {
  readonly errors: readonly FieldError[] = [
    { in: 'header', field: 'idempotency-key', message: 'already used with a different body' },
  ];

  constructor() {
    super('idempotency-key-reused', 'This Idempotency-Key was already used with a different request body');
  }
}

/** Well-formed input that cannot be acted on (a team spec that does not run, a bundle that does not verify). */
export class Unprocessable extends AgentLedgerError {
  readonly errors: readonly FieldError[];

  constructor(message: string, errors: readonly FieldError[] = []) {
    super('unprocessable', message);
    this.errors = errors;
  }
}

/** Too many requests for the tenant; retry after `retryAfterSeconds`. */
export class RateLimited extends AgentLedgerError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super('rate-limited', `Too many requests for this tenant: retry after ${retryAfterSeconds} s`, {
      retryable: true,
    });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A dependency is down or overloaded; retrying later may succeed. */
export class Unavailable extends AgentLedgerError {
  constructor(message: string, cause?: unknown) {
    super('unavailable', message, { retryable: true, cause });
  }
}

/** The database refused to change stored history (the append-only guard on events, retention's whole-session rule). */
export class HistoryImmutable extends AgentLedgerError {
  constructor(message: string, cause?: unknown) {
    super('HISTORY_IMMUTABLE', message, { cause });
  }
}
