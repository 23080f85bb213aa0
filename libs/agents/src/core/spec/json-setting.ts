/**
 * An operator setting that holds a JSON object or the path of a file holding one (model endpoints,
 * MCP servers): the parsed JSON, or `fail` with a message naming the variable (never its value).
 */
export const readJsonSetting = (
  variable: string,
  raw: string,
  readFile: (path: string) => string,
  fail: (message: string) => Error,
): unknown => {
  const trimmed = raw.trim();
  let text = trimmed;
  if (!trimmed.startsWith('{')) {
    try {
      text = readFile(trimmed);
    } catch {
      throw fail(`${variable}: cannot read the file it names`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw fail(`${variable}: not valid JSON (a JSON object or a file path)`);
  }
};
