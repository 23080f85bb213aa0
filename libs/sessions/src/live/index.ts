export { followStream, type FollowOptions } from './follow-stream.ts';
export { createStoreLiveEvents, type LiveEvents, type Watch } from './live-events.ts';
