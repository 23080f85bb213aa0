import type { TeamSpecInput } from '../spec/team-spec.ts';
import { known, type ImportContext } from './import-context.ts';

export type ModelInput = NonNullable<
  Extract<TeamSpecInput['agents'][number], { kind?: 'assistant' }>['model']
>;

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
    case 'OpenAIChatCompletionClient':
      if (!modelName) return ctx.reject(`${path}.config.model`, c.provider, 'a model name is required');
      return {
        provider: 'openai',
        model: modelName,
        ...(typeof cfg['base_url'] === 'string' ? { baseUrl: cfg['base_url'] } : {}),
        ...common,
      };
    case 'AzureOpenAIChatCompletionClient':
      if (!modelName) return ctx.reject(`${path}.config.model`, c.provider, 'a model name is required');
      return {
        provider: 'azure_openai',
        model: modelName,
        ...(typeof cfg['azure_endpoint'] === 'string' ? { baseUrl: cfg['azure_endpoint'] } : {}),
        ...(typeof cfg['api_version'] === 'string' ? { apiVersion: cfg['api_version'] } : {}),
        ...(typeof cfg['azure_deployment'] === 'string' ? { deployment: cfg['azure_deployment'] } : {}),
        apiKeyEnv: 'AZURE_OPENAI_API_KEY',
        ...common,
      };
    case 'OllamaChatCompletionClient': {
      if (!modelName) return ctx.reject(`${path}.config.model`, c.provider, 'a model name is required');
      const host = typeof cfg['host'] === 'string' ? cfg['host'] : 'http://localhost:11434';
      return { provider: 'openai', model: modelName, baseUrl: `${host.replace(/\/$/, '')}/v1`, ...common };
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
