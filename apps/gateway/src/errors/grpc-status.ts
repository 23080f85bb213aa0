import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { Problem } from './problem.ts';

const byCode: Readonly<Record<string, GrpcStatus>> = {
  'validation-failed': GrpcStatus.INVALID_ARGUMENT,
  'bad-request': GrpcStatus.INVALID_ARGUMENT,
  'payload-too-large': GrpcStatus.INVALID_ARGUMENT,
  unauthenticated: GrpcStatus.UNAUTHENTICATED,
  'permission-denied': GrpcStatus.PERMISSION_DENIED,
  'not-found': GrpcStatus.NOT_FOUND,
  conflict: GrpcStatus.FAILED_PRECONDITION,
  'idempotency-key-reused': GrpcStatus.FAILED_PRECONDITION,
  unprocessable: GrpcStatus.INVALID_ARGUMENT,
  'rate-limited': GrpcStatus.RESOURCE_EXHAUSTED,
  unavailable: GrpcStatus.UNAVAILABLE,
};

/**
 * The gRPC face of a problem: the status code mapped from the same stable code the REST edge uses,
 * the detail as message, and the whole problem as JSON in the `agentledger-problem` trailer.
 */
export const toGrpcError = (problem: Problem): Partial<ServiceError> => {
  const metadata = new Metadata();
  metadata.set('agentledger-problem', JSON.stringify(problem));
  if (problem.retryAfterSeconds !== undefined) metadata.set('retry-after', String(problem.retryAfterSeconds));
  return {
    code: byCode[problem.code] ?? GrpcStatus.INTERNAL,
    details: problem.detail,
    message: problem.detail,
    metadata,
  };
};
