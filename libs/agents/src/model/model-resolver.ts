import type { ModelClient } from '../core/model/model-client.port.ts';
import type { ModelCallPurpose } from '../core/session/session.events.ts';
import { canonicalJson } from '@agentledger/events/canonical';
import { checkModelEndpoint, defaultOnlyEndpoints } from '../core/spec/bind-model-endpoints.ts';
import { DEFAULT_ENDPOINT, secretReader, type ModelEndpoints } from '../core/spec/model-endpoints.ts';
import type { ModelSpec } from '../core/spec/team-spec.ts';
import { ModelCallError } from './model-call-error.ts';
import { createOpenAIModelClient, type OpenAIModelClientOptions } from './openai-client.ts';
import { createScriptedModelClient } from './scripted-client.ts';

/** Picks the client for an agent's (or the selector's) model spec. */
export type ModelClientResolver = (
  model: ModelSpec | undefined,
  who: Readonly<{ agent: string; purpose: ModelCallPurpose }>,
) => ModelClient;

export type ModelClientResolverOptions = Readonly<{
  /** The operator's endpoints (`parseModelEndpoints`); absent: only `default` with no URL. */
  endpoints?: ModelEndpoints;
  /** Where an endpoint's `apiKeyEnv` is read (at call time). */
  env: Readonly<Record<string, string | undefined>>;
  /** Reads an endpoint's `apiKeyFile` (at call time); without it file keys are never found. */
  readKeyFile?: (path: string) => string;
  /** Answers when `default` has neither URL nor key: the deterministic demo client by default. */
  fallback?: ModelClient;
  openai?: Omit<OpenAIModelClientOptions, 'model' | 'baseUrl' | 'apiKey'>;
}>;

/** The key values of the operator's endpoints as read now: what the logger must never write. */
export const endpointKeyValues = (
  options: Pick<ModelClientResolverOptions, 'endpoints' | 'env' | 'readKeyFile'>,
): string[] =>
  [...(options.endpoints ?? defaultOnlyEndpoints).values()].flatMap(
    (endpoint) => secretReader(options.env, options.readKeyFile)(endpoint.key) ?? [],
  );

/** A client whose every call fails: the spec names an endpoint the operator did not configure. */
const refusing = (): ModelClient => ({
  complete: () =>
    Promise.reject(
      new ModelCallError('endpoint_not_configured', 'the model endpoint is not configured', false),
    ),
});

/**
 * The rule of docs/team-specs.md: a model spec names an operator-configured endpoint (absent: `default`, from
 * OPENAI_BASE_URL / OPENAI_API_KEY; with neither, the scripted provider answers). A spec whose
 * endpoint, URL or key source is not configured gets a client that refuses every call: the gateway
 * checked it when the team was put, this is the second wall (a spec stored before, or elsewhere).
 * `scripted` specs (AutoGen's ReplayChatCompletionClient) replay their fixed replies.
 */
export const createModelClientResolver = (options: ModelClientResolverOptions): ModelClientResolver => {
  const fallback = options.fallback ?? createScriptedModelClient();
  const endpoints = options.endpoints ?? defaultOnlyEndpoints;
  const cache = new Map<string, ModelClient>();
  const readKey = secretReader(options.env, options.readKeyFile);
  return (model) => {
    if (!model) return fallback;
    const key = canonicalJson(model);
    const cached = cache.get(key);
    if (cached) return cached;
    const client = resolve(model);
    cache.set(key, client);
    return client;
  };

  function resolve(model: ModelSpec): ModelClient {
    if (model.provider === 'scripted')
      return createScriptedModelClient({ script: (model.script ?? []).map((content) => ({ content })) });
    const checked = checkModelEndpoint(model, endpoints, 'model');
    const endpoint = checked.endpoint === undefined ? undefined : endpoints.get(checked.endpoint);
    if (checked.issues.length > 0 || !endpoint) return refusing();
    const apiKey = () => readKey(endpoint.key);
    if (endpoint.name === DEFAULT_ENDPOINT && !endpoint.baseUrl && !apiKey()) return fallback;
    return createOpenAIModelClient({
      ...options.openai,
      model,
      ...(endpoint.baseUrl ? { baseUrl: endpoint.baseUrl } : {}),
      ...(endpoint.stream === false ? { stream: false } : {}),
      apiKey,
    });
  }
};

/** A resolver that always answers with one client (tests, library users with one model). */
export const singleModelClient =
  (client: ModelClient): ModelClientResolver =>
  () =>
    client;
