/** Test helpers for other packages: the fake OpenAI-compatible server (no vitest import here). */
export * from './fake-openai-server.ts';
export { spec } from './session-harness.ts';
export { startRatesMcpServer, type RatesMcpServer } from './mcp/rates-server.ts';
/** `node <this path>` starts the stdio test MCP server (needs DESK_TOKEN). */
export const DESK_MCP_SERVER_PATH = new URL('./mcp/desk-server.ts', import.meta.url).pathname.replace(
  /\/dist\/testing\/mcp\/desk-server\.ts$/,
  '/src/testing/mcp/desk-server.ts',
);
