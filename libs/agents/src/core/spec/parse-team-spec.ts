import { importAutogenComponent, isAutogenComponent, isAutogenGallery } from '../autogen/autogen-import.ts';
import { bindModelEndpoints, defaultOnlyEndpoints } from './bind-model-endpoints.ts';
import type { McpServers } from './mcp-servers.ts';
import type { ModelEndpoints } from './model-endpoints.ts';
import { teamSpecSchema, type TeamSpec } from './team-spec.ts';

export type SpecIssue = Readonly<{ path: string; message: string }>;

/** A team spec that does not validate (400): each issue names its field. */
export class InvalidTeamSpec extends Error {
  readonly code = 'invalid_team_spec';
  readonly retryable = false;
  readonly issues: readonly SpecIssue[];
  constructor(issues: readonly SpecIssue[]) {
    super(`invalid team spec: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'InvalidTeamSpec';
    this.issues = issues;
  }
}

/**
 * Our team spec JSON, or an AutoGen AgentChat component JSON, in; a normalized, validated spec
 * out, its models bound to the operator's endpoints (without `endpoints`, only `default` with no
 * URL). Throws `InvalidTeamSpec` (400), `UnsupportedComponent` or `ModelEndpointRefused` (422).
 */
export const parseTeamSpec = (
  input: unknown,
  options: Readonly<{ toolNames: readonly string[]; endpoints?: ModelEndpoints; mcpServers?: McpServers }>,
): TeamSpec => {
  const endpoints = options.endpoints ?? defaultOnlyEndpoints;
  if (isAutogenComponent(input) || isAutogenGallery(input))
    return bindModelEndpoints(importAutogenComponent(input, { ...options, endpoints }), endpoints);
  const parsed = teamSpecSchema.safeParse(input);
  if (!parsed.success)
    throw new InvalidTeamSpec(
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  return bindModelEndpoints(parsed.data, endpoints);
};

/** The names a spec's agents use that the registry does not have (a spec that cannot run: 422). */
export const unknownToolNames = (spec: TeamSpec, toolNames: readonly string[]): string[] =>
  spec.agents.flatMap((a) => (a.kind === 'assistant' ? a.tools.filter((t) => !toolNames.includes(t)) : []));
