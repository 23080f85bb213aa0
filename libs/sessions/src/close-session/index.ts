export { closeSessionUseCase } from './close-session.ts';
