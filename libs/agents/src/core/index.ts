export * from './errors.ts';
export { canonicalJson, hashOf, sha256Hex } from '@agentledger/events/canonical';
export type {
  FinishReason,
  ModelCallOptions,
  ModelClient,
  ModelDelta,
  ModelMessage,
  ModelRequest,
  ModelResponse,
  ModelToolCall,
  TokenUsage,
  ToolSchema,
} from './model/model-client.port.ts';
export {
  buildAgentContext,
  buildSelectorContext,
  contextForCall,
  contextHashOf,
  handoffToolSchemas,
  mentionedAgents,
  offeredToolNames,
  renderSelectorPrompt,
  selectorCandidates,
} from './prompt/model-context.ts';
export * from './session/next-action.ts';
export type * from './session/session.commands.ts';
export { decide } from './session/session.decide.ts';
export { foldSession, sessionDecider, type Decider } from './session/session.decider.ts';
export type * from './session/session.events.ts';
export { SESSION_EVENT_TYPES } from './session/session.events.ts';
export { evolve, foldingEvolve, toolResultText } from './session/session.evolve.ts';
export { replayDecisions, type DecisionReplay, type RecordedSessionEvent } from './session/session.replay.ts';
export * from './session/session.state.ts';
export { nextDeadline, toSessionView, turnDeadline, type SessionView } from './session/session.view.ts';
export * from './spec/team-spec.ts';
export * from './spec/termination.schema.ts';
export { effectiveTermination, terminationReason, type TurnView } from './team/termination.ts';
export {
  importAutogenComponent,
  importAutogenGallery,
  isAutogenComponent,
  isAutogenGallery,
  UnsupportedComponent,
  type AutogenImportOptions,
  type GalleryImport,
  type ImportIssue,
} from './autogen/autogen-import.ts';
export { InvalidTeamSpec, parseTeamSpec, unknownToolNames, type SpecIssue } from './spec/parse-team-spec.ts';
export {
  DEFAULT_ENDPOINT,
  endpointByBaseUrl,
  InvalidModelEndpoints,
  normalizeBaseUrl,
  parseModelEndpoints,
  readModelEndpoints,
  secretReader,
  type KeySource,
  type ModelEndpoint,
  type ModelEndpoints,
} from './spec/model-endpoints.ts';
export {
  bindModelEndpoints,
  checkModelEndpoint,
  defaultOnlyEndpoints,
  ModelEndpointRefused,
  type EndpointIssue,
} from './spec/bind-model-endpoints.ts';
export {
  InvalidMcpServers,
  mcpServerByCommand,
  mcpServerByUrl,
  normalizeMcpUrl,
  parseMcpServers,
  readMcpServers,
  type McpServer,
  type McpServers,
  type SecretValue,
} from './spec/mcp-servers.ts';
export { parseOperatorConfig, type OperatorRegistries } from './spec/operator-config.ts';
export {
  McpToolsRefused,
  resolveMcpTools,
  type McpIssue,
  type McpToolInfo,
  type McpToolLister,
} from './spec/resolve-mcp-tools.ts';
