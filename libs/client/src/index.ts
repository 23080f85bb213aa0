export {
  createAgentLedgerClient,
  type AgentLedgerClient,
  type MutationOptions,
  type PostMessageResult,
} from './client.ts';
export type { ClientOptions, RetryPolicy } from './transport.ts';
export { retryAfterMs } from './transport.ts';
export { ProblemError } from './problem-error.ts';
export type { FollowOptions, StreamItem } from './follow-session.ts';
export { createSseParser, type SseFrame } from './sse.ts';
export { operations, type OperationId, type OperationShape } from './operations.ts';
export {
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
  type WebhookHeaders,
  type VerifyWebhookOptions,
} from './webhooks.ts';
export type * from './types.ts';
