export { forkSessionUseCase, type ForkSessionInput } from './fork-session.ts';
