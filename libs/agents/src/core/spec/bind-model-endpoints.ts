import { DEFAULT_ENDPOINT, endpointByBaseUrl, type ModelEndpoints } from './model-endpoints.ts';
import type { ModelSpec, TeamSpec } from './team-spec.ts';

export type EndpointIssue = Readonly<{ path: string; message: string }>;

/**
 * A spec whose model names an endpoint the operator did not configure, a base URL or key source
 * that is not a configured endpoint's, or a model outside an endpoint's allow-list (422).
 */
export class ModelEndpointRefused extends Error {
  readonly code = 'model_endpoint_refused';
  readonly retryable = false;
  readonly issues: readonly EndpointIssue[];
  constructor(issues: readonly EndpointIssue[]) {
    super(`model endpoint refused: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'ModelEndpointRefused';
    this.issues = issues;
  }
}

/** Only `default`, with no URL: what a caller that configured nothing may use. */
export const defaultOnlyEndpoints: ModelEndpoints = new Map([
  [DEFAULT_ENDPOINT, { name: DEFAULT_ENDPOINT, key: { kind: 'env', name: 'OPENAI_API_KEY' } }],
]);

/**
 * The endpoint a model spec uses, or the reason it may not: the one rule both the gateway (when a
 * team is put) and the effect runner (before a call) apply.
 */
export const checkModelEndpoint = (
  model: ModelSpec,
  endpoints: ModelEndpoints,
  path: string,
): Readonly<{ endpoint: string | undefined; issues: EndpointIssue[] }> => {
  const issues: EndpointIssue[] = [];
  if (model.provider === 'scripted') return { endpoint: undefined, issues };
  let name = model.endpoint;
  if (model.baseUrl !== undefined) {
    const byUrl = endpointByBaseUrl(endpoints, model.baseUrl);
    if (!byUrl || (name !== undefined && name !== byUrl.name))
      issues.push({
        path: `${path}.baseUrl`,
        message: 'not the base URL of a configured model endpoint; name one with "endpoint"',
      });
    else name = byUrl.name;
  }
  const endpoint = endpoints.get(name ?? DEFAULT_ENDPOINT);
  if (!endpoint) issues.push({ path: `${path}.endpoint`, message: 'not a configured model endpoint' });
  if (
    model.apiKeyEnv !== undefined &&
    !(endpoint?.key?.kind === 'env' && endpoint.key.name === model.apiKeyEnv)
  )
    issues.push({
      path: `${path}.apiKeyEnv`,
      message: "not the key source of the model's endpoint; keys are operator configuration",
    });
  if (endpoint?.models && !endpoint.models.includes(model.model))
    issues.push({ path: `${path}.model`, message: `not allowed on endpoint "${endpoint.name}"` });
  return { endpoint: endpoint?.name, issues };
};

const bindOne = (
  model: ModelSpec,
  endpoints: ModelEndpoints,
  path: string,
  issues: EndpointIssue[],
): ModelSpec => {
  const checked = checkModelEndpoint(model, endpoints, path);
  issues.push(...checked.issues);
  const { baseUrl: _url, apiKeyEnv: _key, ...rest } = model;
  const named = model.endpoint !== undefined || model.baseUrl !== undefined;
  return named && checked.endpoint !== undefined ? { ...rest, endpoint: checked.endpoint } : rest;
};

/**
 * Checks every model of a spec against the operator's endpoints and stores each by endpoint name
 * only (the URL and key source a spec repeated are dropped). Throws `ModelEndpointRefused`.
 */
export const bindModelEndpoints = (spec: TeamSpec, endpoints: ModelEndpoints): TeamSpec => {
  const issues: EndpointIssue[] = [];
  const agents = spec.agents.map((agent, i) =>
    agent.kind === 'assistant' && agent.model
      ? { ...agent, model: bindOne(agent.model, endpoints, `agents.${i}.model`, issues) }
      : agent,
  );
  const selector =
    spec.selector?.model === undefined
      ? spec.selector
      : { ...spec.selector, model: bindOne(spec.selector.model, endpoints, 'selector.model', issues) };
  const magenticOne =
    spec.magenticOne?.model === undefined
      ? spec.magenticOne
      : {
          ...spec.magenticOne,
          model: bindOne(spec.magenticOne.model, endpoints, 'magenticOne.model', issues),
        };
  if (issues.length > 0) throw new ModelEndpointRefused(issues);
  return {
    ...spec,
    agents,
    ...(selector === undefined ? {} : { selector }),
    ...(magenticOne === undefined ? {} : { magenticOne }),
  };
};
