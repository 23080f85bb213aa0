export * from './fake-openai-server.ts';
export * from './decider-spec.ts';
