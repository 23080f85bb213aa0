import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import {
  IdempotencyKeyReused,
  RateLimited,
  Unprocessable,
  ValidationFailed,
  type FieldError,
} from '@agentledger/events';

/** RFC 9457 problem details, plus our stable `code` and, for validation, the offending fields. */
export type Problem = Readonly<{
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  errors?: readonly FieldError[];
  retryAfterSeconds?: number;
}>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const problemType = (code: string): string => `urn:agentledger:problem:${code}`;

/** Codes for errors the HTTP layer (Fastify, Nest routing) raises before our handlers run. */
const frameworkCodes: Readonly<Record<number, string>> = {
  400: 'bad-request',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  431: 'headers-too-large',
};

/**
 * Every stable library code an edge answers with a client fault: its HTTP status and the problem
 * code clients see. The taxonomy's kinds (`@agentledger/events` errors) carry the problem code
 * itself; specific library errors map to the kind they are. Unknown codes are server faults (500).
 */
const libraryCodes: Readonly<Record<string, readonly [status: number, problemCode: string]>> = {
  'validation-failed': [400, 'validation-failed'],
  unauthenticated: [401, 'unauthenticated'],
  'permission-denied': [403, 'permission-denied'],
  'not-found': [404, 'not-found'],
  conflict: [409, 'conflict'],
  'idempotency-key-reused': [422, 'idempotency-key-reused'],
  unprocessable: [422, 'unprocessable'],
  'rate-limited': [429, 'rate-limited'],
  unavailable: [503, 'unavailable'],
  illegal_session_state: [409, 'conflict'],
  session_busy: [409, 'conflict'],
  session_closed: [409, 'conflict'],
  tool_call_not_found: [404, 'not-found'],
  SESSION_NOT_FOUND: [404, 'not-found'],
  STREAM_TENANT_MISMATCH: [404, 'not-found'],
  STREAM_VERSION_CONFLICT: [409, 'conflict'],
  STREAM_DELETED: [409, 'conflict'],
  CONCURRENT_CHANGE: [409, 'conflict'],
  INVALID_CURSOR: [400, 'validation-failed'],
  LEASE_LOST: [409, 'conflict'],
};

/** The stable code of a library error (read by shape: a library bundled twice still maps). */
const codeOf = (error: unknown): string | undefined =>
  error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;

const fieldErrorsOf = (error: Error): readonly FieldError[] =>
  error instanceof ValidationFailed || error instanceof Unprocessable || error instanceof IdempotencyKeyReused
    ? error.errors
    : [];

/**
 * The one mapping from a thrown value to what a client sees, for REST and gRPC alike. Client
 * faults keep their message; anything unexpected becomes a 500 whose detail reveals nothing.
 */
export const toProblem = (error: unknown, instance?: string): Problem => {
  const code = codeOf(error);
  const known = code === undefined ? undefined : libraryCodes[code];
  if (error instanceof Error && known !== undefined) {
    const [status, problemCode] = known;
    const errors = fieldErrorsOf(error);
    return {
      type: problemType(problemCode),
      title: STATUS_CODES[status] ?? 'Error',
      status,
      detail: code === 'STREAM_TENANT_MISMATCH' ? 'No such resource' : error.message,
      code: problemCode,
      ...(instance === undefined ? {} : { instance }),
      ...(errors.length > 0 ? { errors } : {}),
      ...(error instanceof RateLimited ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
    };
  }
  const status = error instanceof HttpException ? error.getStatus() : 500;
  if (status >= 400 && status < 500) {
    const code = frameworkCodes[status] ?? 'bad-request';
    return {
      type: problemType(code),
      title: STATUS_CODES[status] ?? 'Error',
      status,
      detail: frameworkDetail(status, error),
      code,
      ...(instance === undefined ? {} : { instance }),
    };
  }
  return {
    type: problemType('internal'),
    title: STATUS_CODES[500] ?? 'Internal Server Error',
    status: 500,
    detail: 'The request could not be completed; it has been logged',
    code: 'internal',
    ...(instance === undefined ? {} : { instance }),
  };
};

const frameworkDetail = (status: number, error: unknown): string => {
  if (status === 404) return 'No such route';
  if (status === 413) return 'The request body exceeds the size limit';
  if (status === 415) return 'Unsupported content type: send application/json';
  if (status === 400) return 'The request body is not valid JSON';
  return error instanceof Error ? error.message : 'Bad request';
};
