import { calculatorTool } from './calculator.tool.ts';
import { createHttpRequestTool, type HttpRequestToolOptions } from './http-request.tool.ts';
import { createToolRegistry, type ToolRegistry } from './tool.ts';

export const BUILTIN_TOOL_NAMES = ['calculator', 'http_request'] as const;

/** The built-in tools: `calculator`, and `http_request` (no host allowed unless configured). */
export const builtinTools = (http: HttpRequestToolOptions = { allowedHosts: [] }): ToolRegistry =>
  createToolRegistry([calculatorTool, createHttpRequestTool(http)]);
