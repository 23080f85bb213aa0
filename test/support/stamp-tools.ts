/**
 * A TOOLS_MODULE for the runtime and standalone tests (Node runs this file with its type
 * stripping): `stamp` answers with the text and the id of the process it ran in, so a test sees
 * that the application's tool ran inside the app it started.
 */
import { z } from 'zod';
import { defineTool } from '@agentledger/agents';

export const tools = [
  defineTool({
    name: 'stamp',
    description: 'Stamps a text with the id of the process that ran the tool',
    parameters: z.object({ text: z.string() }),
    idempotent: true,
    requiresApproval: false,
    execute: ({ text }) => `stamped ${text} in process ${process.pid}`,
  }),
];
