export { sessionBundlesUseCase } from './session-bundles.ts';
