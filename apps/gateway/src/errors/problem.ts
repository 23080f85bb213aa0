import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import { GatewayError, type FieldError } from './gateway-errors.ts';

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

/** Stable codes of library errors (AgentLedgerError, rejected session commands) → HTTP status. */
const libraryStatuses: Readonly<Record<string, number>> = {
  illegal_session_state: 409,
  session_busy: 409,
  session_closed: 409,
  tool_call_not_found: 404,
  SESSION_NOT_FOUND: 404,
  STREAM_TENANT_MISMATCH: 404,
  STREAM_VERSION_CONFLICT: 409,
  STREAM_DELETED: 409,
  INVALID_CURSOR: 400,
  LEASE_LOST: 409,
  /** Postgres SQLSTATEs that mean "a concurrent change won": retryable, never a server fault. */
  ALV01: 409,
  '23505': 409,
  '40001': 409,
  '40P01': 409,
};

const libraryProblemCodes: Readonly<Record<number, string>> = {
  400: 'validation-failed',
  404: 'not-found',
  409: 'conflict',
};

const CONCURRENT_CHANGE = 'A concurrent change to this resource won: retry the request';

/** The first error in the `cause` chain with a known stable code (drivers wrap database errors). */
const libraryError = (
  error: unknown,
  depth = 0,
): { status: number; code: string; message: string } | undefined => {
  if (!(error instanceof Error) || depth > 4) return undefined;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const status = code === undefined ? undefined : libraryStatuses[code];
  if (code === undefined || status === undefined) return libraryError(error.cause, depth + 1);
  const message =
    code === 'STREAM_TENANT_MISMATCH'
      ? 'No such resource'
      : /^[0-9A-Z]{5}$/.test(code)
        ? CONCURRENT_CHANGE
        : error.message;
  return { status, code: libraryProblemCodes[status] ?? 'conflict', message };
};

/**
 * The one mapping from a thrown value to what a client sees, for REST and gRPC alike. Client
 * faults keep their message; anything unexpected becomes a 500 whose detail reveals nothing.
 */
export const toProblem = (error: unknown, instance?: string): Problem => {
  if (error instanceof GatewayError) {
    return {
      type: problemType(error.code),
      title: STATUS_CODES[error.status] ?? 'Error',
      status: error.status,
      detail: error.message,
      code: error.code,
      ...(instance === undefined ? {} : { instance }),
      ...(error.errors.length > 0 ? { errors: error.errors } : {}),
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    };
  }
  const library = libraryError(error);
  if (library !== undefined) {
    return {
      type: problemType(library.code),
      title: STATUS_CODES[library.status] ?? 'Error',
      status: library.status,
      detail: library.message,
      code: library.code,
      ...(instance === undefined ? {} : { instance }),
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
