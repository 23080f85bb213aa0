/** Where an offending value came from: the JSON body, the query string, the path or a header. */
export type FieldLocation = 'body' | 'query' | 'path' | 'header' | 'metadata';

/** One reason a request was rejected, naming the field (and for bodies a JSON pointer to it). */
export type FieldError = Readonly<{ in: FieldLocation; field: string; pointer?: string; message: string }>;

type GatewayErrorOptions = Readonly<{
  errors?: readonly FieldError[];
  retryAfterSeconds?: number;
  retryable?: boolean;
  cause?: unknown;
}>;

/**
 * A rejected request. `code` is stable (it names the problem type), `status` is the HTTP status the
 * REST edge answers with; the gRPC edge maps the same code to a gRPC status.
 */
export class GatewayError extends Error {
  readonly errors: readonly FieldError[];
  readonly retryAfterSeconds: number | undefined;
  readonly retryable: boolean;

  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    options: GatewayErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.errors = options.errors ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.retryable = options.retryable ?? false;
  }
}

export class ValidationFailed extends GatewayError {
  constructor(errors: readonly FieldError[]) {
    const fields = [...new Set(errors.map((error) => `${error.in} ${error.field}`))].join(', ');
    super('validation-failed', 400, `Invalid ${fields}`, { errors });
  }
}

export class Unauthenticated extends GatewayError {
  constructor(message = 'A valid API key is required: Authorization: Bearer <key>') {
    super('unauthenticated', 401, message);
  }
}

export class PermissionDenied extends GatewayError {
  constructor(scope: string) {
    super('permission-denied', 403, `The API key lacks the scope ${scope}`);
  }
}

/** Unknown, or another tenant's: the answer never confirms that someone else's resource exists. */
export class ResourceNotFound extends GatewayError {
  constructor(kind: 'session' | 'team' | 'route' | 'tool call' | 'webhook' | 'delivery', id: string) {
    super('not-found', 404, kind === 'route' ? `No route ${id}` : `No ${kind} ${JSON.stringify(id)}`);
  }
}

export class ResourceConflict extends GatewayError {
  constructor(message: string) {
    super('conflict', 409, message);
  }
}

export class PayloadTooLarge extends GatewayError {
  constructor(limitBytes?: number) {
    super('payload-too-large', 413, `The request body exceeds ${limitBytes ?? 'the'} bytes limit`);
  }
}

export class UnsupportedMediaType extends GatewayError {
  constructor(contentType: string | undefined) {
    super(
      'unsupported-media-type',
      415,
      `Content type ${contentType ?? '(none)'} is not accepted: send application/json`,
    );
  }
}

export class IdempotencyKeyReused extends GatewayError {
  constructor() {
    super(
      'idempotency-key-reused',
      422,
      'This Idempotency-Key was already used with a different request body',
      {
        errors: [{ in: 'header', field: 'idempotency-key', message: 'already used with a different body' }],
      },
    );
  }
}

export class UnprocessableRequest extends GatewayError {
  constructor(message: string, errors: readonly FieldError[] = []) {
    super('unprocessable', 422, message, { errors });
  }
}

export class RateLimited extends GatewayError {
  constructor(retryAfterSeconds: number) {
    super('rate-limited', 429, `Too many requests for this tenant: retry after ${retryAfterSeconds} s`, {
      retryAfterSeconds,
      retryable: true,
    });
  }
}

export class ServiceUnavailable extends GatewayError {
  constructor(message: string) {
    super('unavailable', 503, message, { retryable: true });
  }
}
