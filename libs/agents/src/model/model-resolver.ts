import type { ModelClient } from '../core/model/model-client.port.ts';
import { canonicalJson } from '../core/hash.ts';
import type { ModelSpec } from '../core/spec/team-spec.ts';
import { createOpenAIModelClient, type OpenAIModelClientOptions } from './openai-client.ts';
import { createScriptedModelClient } from './scripted-client.ts';

/** Picks the client for an agent's (or the selector's) model spec. */
export type ModelClientResolver = (
  model: ModelSpec | undefined,
  who: Readonly<{ agent: string; purpose: 'agent' | 'reflection' | 'select_speaker' }>,
) => ModelClient;

export type ModelClientResolverOptions = Readonly<{
  /** Where OPENAI_API_KEY, OPENAI_BASE_URL and each spec's `apiKeyEnv` are read (at call time). */
  env: Readonly<Record<string, string | undefined>>;
  /** Answers when no endpoint is configured: the deterministic demo client by default. */
  fallback?: ModelClient;
  openai?: Omit<OpenAIModelClientOptions, 'model' | 'env'>;
}>;

/**
 * The rule of docs/team-specs.md: an agent's model may name its own `baseUrl` and `apiKeyEnv`; otherwise
 * `OPENAI_BASE_URL` / `OPENAI_API_KEY` apply; with neither, the scripted provider answers.
 * `scripted` specs (AutoGen's ReplayChatCompletionClient) replay their fixed replies.
 */
export const createModelClientResolver = (options: ModelClientResolverOptions): ModelClientResolver => {
  const fallback = options.fallback ?? createScriptedModelClient();
  const cache = new Map<string, ModelClient>();
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
    const baseUrl = model.baseUrl ?? options.env['OPENAI_BASE_URL'];
    const keyName = model.apiKeyEnv ?? 'OPENAI_API_KEY';
    if (!baseUrl && !options.env[keyName]) return fallback;
    return createOpenAIModelClient({
      ...options.openai,
      model: { ...model, ...(baseUrl ? { baseUrl } : {}), apiKeyEnv: keyName },
      env: options.env,
    });
  }
};

/** A resolver that always answers with one client (tests, library users with one model). */
export const singleModelClient =
  (client: ModelClient): ModelClientResolver =>
  () =>
    client;
