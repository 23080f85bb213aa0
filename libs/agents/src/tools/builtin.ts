import { calculatorTool } from './calculator.tool.ts';
import { createHttpRequestTool, type HttpRequestToolOptions } from './http/http-request.tool.ts';
import { createToolRegistry, type ToolRegistry } from './tool.ts';

export const BUILTIN_TOOL_NAMES = ['calculator', 'http_request'] as const;

const noTransport: HttpRequestToolOptions['transport'] = () =>
  Promise.reject(new Error('http_request has no network transport configured'));

/** The built-in tools: `calculator`, and `http_request` (no host allowed unless configured). */
export const builtinTools = (
  http: HttpRequestToolOptions = { allowedHosts: [], transport: noTransport },
): ToolRegistry => createToolRegistry([calculatorTool, createHttpRequestTool(http)]);
