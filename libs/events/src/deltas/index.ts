export {
  SESSION_DELTAS_RETENTION_MS,
  SESSION_DELTAS_TOPIC,
  deltaKeyOf,
  parseSessionDelta,
  type DeltaChannel,
  type DeltaHandler,
  type SessionDelta,
} from './session-delta.ts';
export { createInProcessDeltaChannel } from './in-process-delta-channel.ts';
