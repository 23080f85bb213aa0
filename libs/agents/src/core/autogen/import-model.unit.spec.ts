import { describe, expect, it } from 'vitest';
import { parseModelEndpoints } from '../spec/model-endpoints.ts';
import { ImportContext } from './import-context.ts';
import { importModel } from './import-model.ts';

const endpoints = parseModelEndpoints(
  {
    AGENTLEDGER_MODEL_ENDPOINTS: JSON.stringify({
      vllm: { baseUrl: 'http://vllm:8000/v1' },
      ollama: { baseUrl: 'http://localhost:11434/v1' },
      azure: { baseUrl: 'https://x.openai.azure.com' },
    }),
  },
  () => '',
);
const client = (cls: string, config: Record<string, unknown>) => ({
  provider: `autogen_ext.models.${cls}`,
  component_type: 'model',
  config,
});
/** The imported model and the issues the import collected. */
const imported = (value: unknown, withEndpoints = true) => {
  const ctx = new ImportContext({ toolNames: [], ...(withEndpoints ? { endpoints } : {}) });
  return { model: importModel(ctx, value, '$.m'), issues: ctx.issues };
};

describe('importModel', () => {
  it('maps an OpenAI client with its sampling, limit, timeout and retry settings (retries capped at 10)', () => {
    expect(
      imported(
        client('openai.OpenAIChatCompletionClient', {
          model: 'gpt-4o',
          temperature: 0.2,
          max_tokens: 100,
          timeout: 30,
          max_retries: 12,
          api_key: 'sk-x',
        }),
      ),
    ).toStrictEqual({
      model: {
        provider: 'openai',
        model: 'gpt-4o',
        temperature: 0.2,
        maxTokens: 100,
        timeoutSeconds: 30,
        maxRetries: 10,
      },
      issues: [],
    });
    expect(
      imported(client('openai.OpenAIChatCompletionClient', { model: 'm', max_retries: 3 })).model,
    ).toStrictEqual({
      provider: 'openai',
      model: 'm',
      maxRetries: 3,
    });
  });

  it('ignores settings of the wrong type', () => {
    expect(
      imported(
        client('openai.OpenAIChatCompletionClient', {
          model: 'm',
          temperature: '0.2',
          max_tokens: '1',
          timeout: null,
          max_retries: '3',
          base_url: 42,
        }),
      ).model,
    ).toStrictEqual({ provider: 'openai', model: 'm' });
  });

  it('without endpoints, a base URL is refused', () => {
    expect(
      imported(
        client('openai.OpenAIChatCompletionClient', { model: 'm', base_url: 'http://vllm:8000/v1' }),
        false,
      ).issues,
    ).toStrictEqual([
      {
        path: '$.m.config.base_url',
        provider: 'autogen_ext.models.openai.OpenAIChatCompletionClient',
        message: 'not the base URL of a configured model endpoint',
      },
    ]);
  });

  it('maps an Azure client: endpoint, API version and deployment', () => {
    expect(
      imported(
        client('openai.AzureOpenAIChatCompletionClient', {
          model: 'gpt-4o',
          azure_endpoint: 'https://x.openai.azure.com/',
          api_version: '2024-06-01',
          azure_deployment: 'prod',
          temperature: 0,
        }),
      ),
    ).toStrictEqual({
      model: {
        provider: 'azure_openai',
        model: 'gpt-4o',
        endpoint: 'azure',
        apiVersion: '2024-06-01',
        deployment: 'prod',
        temperature: 0,
      },
      issues: [],
    });
    expect(imported(client('openai.AzureOpenAIChatCompletionClient', { model: 'm' })).model).toStrictEqual({
      provider: 'azure_openai',
      model: 'm',
    });
  });

  it("maps an Ollama client to its OpenAI endpoint, localhost's by default", () => {
    expect(imported(client('ollama.OllamaChatCompletionClient', { model: 'llama3' })).model).toStrictEqual({
      provider: 'openai',
      model: 'llama3',
      endpoint: 'ollama',
    });
    expect(
      imported(client('ollama.OllamaChatCompletionClient', { model: 'llama3', host: 'http://vllm:8000/' }))
        .model,
    ).toStrictEqual({ provider: 'openai', model: 'llama3', endpoint: 'vllm' });
  });

  it('requires a model name of each client that calls a model, at its path', () => {
    for (const cls of [
      'openai.OpenAIChatCompletionClient',
      'openai.AzureOpenAIChatCompletionClient',
      'ollama.OllamaChatCompletionClient',
    ])
      expect(imported(client(cls, { model: '' }))).toStrictEqual({
        model: undefined,
        issues: [
          {
            path: '$.m.config.model',
            provider: `autogen_ext.models.${cls}`,
            message: 'a model name is required',
          },
        ],
      });
  });

  it('maps a Replay client to a scripted model; only text replies', () => {
    expect(
      imported(client('replay.ReplayChatCompletionClient', { chat_completions: ['a', 'b'] })).model,
    ).toStrictEqual({ provider: 'scripted', model: 'replay', script: ['a', 'b'] });
    expect(imported(client('replay.ReplayChatCompletionClient', {})).model).toStrictEqual({
      provider: 'scripted',
      model: 'replay',
      script: [],
    });
    expect(
      imported(client('replay.ReplayChatCompletionClient', { chat_completions: ['a', { x: 1 }] })),
    ).toStrictEqual({
      model: undefined,
      issues: [
        {
          path: '$.m.config.chat_completions',
          provider: 'autogen_ext.models.replay.ReplayChatCompletionClient',
          message: 'only text replies can be replayed',
        },
      ],
    });
  });

  it('rejects any other client, or something that is not a component, at its path', () => {
    expect(imported(client('anthropic.AnthropicChatCompletionClient', { model: 'm' })).issues).toStrictEqual([
      {
        path: '$.m',
        provider: 'autogen_ext.models.anthropic.AnthropicChatCompletionClient',
        message: 'this model client cannot run here (OpenAI-compatible, Azure OpenAI, Ollama, Replay)',
      },
    ]);
    expect(imported('gpt-4o').issues).toStrictEqual([
      {
        path: '$.m',
        provider: '(none)',
        message: 'expected an AutoGen component with "provider" and "config"',
      },
    ]);
  });
});
