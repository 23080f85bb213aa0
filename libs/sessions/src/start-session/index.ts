export { startSessionUseCase, type StartSessionInput } from './start-session.ts';
