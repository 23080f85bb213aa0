/** Test helpers for other packages: the fake OpenAI-compatible server (no vitest import here). */
export * from './fake-openai-server.ts';
export { spec } from './session-harness.ts';
