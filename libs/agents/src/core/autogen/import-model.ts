import { defaultOnlyEndpoints } from '../spec/bind-model-endpoints.ts';
import { endpointByBaseUrl } from '../spec/model-endpoints.ts';
import type { TeamSpecInput } from '../spec/team-spec.ts';
import { known, type ImportContext } from './import-context.ts';

export type ModelInput = NonNullable<
  Extract<TeamSpecInput['agents'][number], { kind?: 'assistant' }>['model']
>;

/**
 * A URL in AutoGen JSON becomes the configured endpoint with that base URL, or the import is
 * refused at that JSON path. Keys (`api_key`) are never read: the endpoint's key source applies.
 */
const endpointFor = (
  ctx: ImportContext,
  url: string | undefined,
  path: string,
  provider: string,
): Readonly<{ endpoint?: string }> | undefined => {
  if (url === undefined) return {};
  const found = endpointByBaseUrl(ctx.options.endpoints ?? defaultOnlyEndpoints, url);
  if (found) return { endpoint: found.name };
  return ctx.reject(path, provider, 'not the base URL of a configured model endpoint');
};

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** OpenAI-compatible, Azure OpenAI, Ollama (its OpenAI endpoint) and Replay (scripted) clients map. */
export const importModel = (ctx: ImportContext, value: unknown, path: string): ModelInput | undefined => {
  const c = ctx.component(value, path);
  if (!c) return undefined;
  const cls = known(c.provider);
  const cfg = c.config;
  const common = {
    ...(typeof cfg['temperature'] === 'number' ? { temperature: cfg['temperature'] } : {}),
    ...(typeof cfg['max_tokens'] === 'number' ? { maxTokens: cfg['max_tokens'] } : {}),
    ...(typeof cfg['timeout'] === 'number' ? { timeoutSeconds: cfg['timeout'] } : {}),
    ...(typeof cfg['max_retries'] === 'number' ? { maxRetries: Math.min(10, cfg['max_retries']) } : {}),
  };
  const modelName = typeof cfg['model'] === 'string' ? cfg['model'] : undefined;
  switch (cls) {
    case 'OpenAIChatCompletionClient': {
      if (!modelName) return ctx.reject(`${path}.config.model`, c.provider, 'a model name is required');
      const endpoint = endpointFor(ctx, str(cfg['base_url']), `${path}.config.base_url`, c.provider);
      return endpoint && { provider: 'openai', model: modelName, ...endpoint, ...common };
    }
    case 'AzureOpenAIChatCompletionClient': {
      if (!modelName) return ctx.reject(`${path}.config.model`, c.provider, 'a model name is required');
      const endpoint = endpointFor(
        ctx,
        str(cfg['azure_endpoint']),
        `${path}.config.azure_endpoint`,
        c.provider,
      );
      return (
        endpoint && {
          provider: 'azure_openai',
          model: modelName,
          ...endpoint,
          ...(typeof cfg['api_version'] === 'string' ? { apiVersion: cfg['api_version'] } : {}),
          ...(typeof cfg['azure_deployment'] === 'string' ? { deployment: cfg['azure_deployment'] } : {}),
          ...common,
        }
      );
    }
    case 'OllamaChatCompletionClient': {
      if (!modelName) return ctx.reject(`${path}.config.model`, c.provider, 'a model name is required');
      const host = str(cfg['host']) ?? 'http://localhost:11434';
      const url = `${host.replace(/\/$/, '')}/v1`;
      const endpoint = endpointFor(ctx, url, `${path}.config.host`, c.provider);
      return endpoint && { provider: 'openai', model: modelName, ...endpoint, ...common };
    }
    case 'ReplayChatCompletionClient': {
      const replies = Array.isArray(cfg['chat_completions']) ? cfg['chat_completions'] : [];
      if (!replies.every((r) => typeof r === 'string'))
        return ctx.reject(`${path}.config.chat_completions`, c.provider, 'only text replies can be replayed');
      return { provider: 'scripted', model: 'replay', script: replies as string[] };
    }
    default:
      return ctx.reject(
        path,
        c.provider,
        'this model client cannot run here (OpenAI-compatible, Azure OpenAI, Ollama, Replay)',
      );
  }
};
