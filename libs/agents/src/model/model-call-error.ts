/** A failed model call, classified: `retryable` tells the caller whether trying again may help. */
export class ModelCallError extends Error {
  readonly code = 'model_call_failed';
  /** rate_limited, server_error, timeout, connection, aborted, bad_request, authentication, … */
  readonly type: string;
  readonly retryable: boolean;
  readonly status: number | undefined;
  constructor(type: string, message: string, retryable: boolean, status?: number) {
    super(message);
    this.name = 'ModelCallError';
    this.type = type;
    this.retryable = retryable;
    this.status = status;
  }
}
