import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Tool } from '@agentledger/agents';

/**
 * The application's tools: the `tools` export (an array of `defineTool` results) of the module the
 * operator names in TOOLS_MODULE (a path, resolved from the working directory). Unset: none. The
 * gateway (to accept specs naming them) and the orchestrator runtime (to run them) both load it here.
 */
export const loadToolsModule = async (modulePath: string | undefined): Promise<readonly Tool[]> => {
  if (!modulePath) return [];
  const loaded = (await import(pathToFileURL(resolve(modulePath)).href)) as { tools?: readonly Tool[] };
  if (!Array.isArray(loaded.tools)) throw new Error(`TOOLS_MODULE ${modulePath} has no 'tools' array export`);
  return loaded.tools;
};
