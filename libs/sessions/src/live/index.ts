export { followStream, withDeltas, type FollowOptions, type StreamItem } from './follow-stream.ts';
export { createLiveDeltas, type LiveDeltas } from './live-deltas.ts';
export { createBusLiveEvents, createStoreLiveEvents, type LiveEvents, type Watch } from './live-events.ts';
