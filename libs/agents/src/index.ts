export * from './core/index.ts';
export { ModelCallError } from './model/model-call-error.ts';
export {
  classifyOpenAIError,
  createOpenAIModelClient,
  retryAfterMs,
  type OpenAIModelClientOptions,
} from './model/openai-client.ts';
export {
  createScriptedModelClient,
  demoAnswer,
  estimateUsage,
  type ScriptedModelClient,
  type ScriptedModelClientOptions,
  type ScriptStep,
} from './model/scripted-client.ts';
export {
  createModelClientResolver,
  endpointKeyValues,
  singleModelClient,
  type ModelClientResolver,
  type ModelClientResolverOptions,
} from './model/model-resolver.ts';
export {
  createToolRegistry,
  defineTool,
  type Tool,
  type ToolContext,
  type ToolDefinition,
  type ToolRegistry,
} from './tools/tool.ts';
export { calculatorTool } from './tools/calculator.tool.ts';
export {
  createHttpRequestTool,
  IDEMPOTENCY_HEADER,
  type HttpMethod,
  type HttpRequestToolOptions,
} from './tools/http/http-request.tool.ts';
export type {
  HttpTransport,
  HttpTransportRequest,
  HttpTransportResponse,
} from './tools/http/http-transport.ts';
export {
  AddressNotAllowed,
  createNodeHttpTransport,
  type NodeHttpTransportOptions,
  type ResolvedAddress,
} from './tools/http/node-http-transport.ts';
export { isNonPublicAddress } from './tools/http/address-ranges.ts';
export { BUILTIN_TOOL_NAMES, builtinTools } from './tools/builtin.ts';
export {
  abortedByTurn,
  isAbortedOutcome,
  TurnAborted,
  type DeltaSink,
  type EffectDeps,
} from './effects/effect-deps.ts';
export { buildModelRequest, modelSpecFor, runModelCall } from './effects/run-model-call.ts';
export { runToolCall, type RunToolOptions } from './effects/run-tool-call.ts';
export { mcpTool, pinnedMcpTool, type McpToolCaller } from './tools/mcp/mcp-tool.ts';
export { createMcpToolbox, type McpToolbox } from './tools/mcp/mcp-toolbox.ts';
