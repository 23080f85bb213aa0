import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The tool names a `TOOLS_MODULE` exports (the CLI checks imported specs with them too). */
export const applicationToolNames = async (modulePath: string | undefined): Promise<readonly string[]> => {
  if (modulePath === undefined) return [];
  const loaded = (await import(pathToFileURL(resolve(modulePath)).href)) as {
    tools?: readonly { name: string }[];
  };
  if (!Array.isArray(loaded.tools)) throw new Error(`TOOLS_MODULE ${modulePath} has no 'tools' array export`);
  return loaded.tools.map((tool) => tool.name);
};
