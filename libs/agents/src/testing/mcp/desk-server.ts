/**
 * An MCP server on stdio for tests (`node libs/agents/src/testing/mcp/desk-server.ts`; Node strips
 * the types). It refuses to start without DESK_TOKEN, which operators pass from a secret.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { registerDeskTools } from './test-mcp-tools.ts';

if (!process.env['DESK_TOKEN']) {
  process.stderr.write('DESK_TOKEN is not set\n');
  process.exit(2);
}
const server = new McpServer({ name: 'desk', version: '1.0.0' });
registerDeskTools(server);
await server.connect(new StdioServerTransport());
