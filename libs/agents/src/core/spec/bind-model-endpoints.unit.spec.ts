import { describe, expect, it } from 'vitest';
import { caught } from '@agentledger/testing';
import {
  bindModelEndpoints,
  checkModelEndpoint,
  defaultOnlyEndpoints,
  ModelEndpointRefused,
} from './bind-model-endpoints.ts';
import { parseModelEndpoints } from './model-endpoints.ts';
import { teamSpecSchema, type ModelSpec, type TeamSpec } from './team-spec.ts';

const endpoints = parseModelEndpoints(
  {
    OPENAI_BASE_URL: 'https://api.example.com/v1',
    AGENTLEDGER_MODEL_ENDPOINTS: JSON.stringify({
      local: { baseUrl: 'http://local/v1', models: ['llama3', 'qwen'] },
      vllm: { baseUrl: 'http://vllm/v1', apiKeyEnv: 'VLLM_KEY' },
      azure: { baseUrl: 'https://azure/v1', apiKeyFile: '/run/azure' },
    }),
  },
  () => '',
);
const model = (fields: Partial<ModelSpec>): ModelSpec => ({ provider: 'openai', model: 'm', ...fields });
const check = (fields: Partial<ModelSpec>, on = endpoints): ReturnType<typeof checkModelEndpoint> =>
  checkModelEndpoint(model(fields), on, 'p');

const NOT_URL = 'not the base URL of a configured model endpoint; name one with "endpoint"';
const NOT_KEY = "not the key source of the model's endpoint; keys are operator configuration";

describe('checkModelEndpoint', () => {
  it('uses `default` when the model names nothing, and the named endpoint otherwise', () => {
    expect(check({})).toStrictEqual({ endpoint: 'default', issues: [] });
    expect(check({ endpoint: 'vllm' })).toStrictEqual({ endpoint: 'vllm', issues: [] });
  });

  it('a base URL picks its endpoint; it must agree with a named one', () => {
    expect(check({ baseUrl: 'http://vllm/v1/' })).toStrictEqual({ endpoint: 'vllm', issues: [] });
    expect(check({ baseUrl: 'http://vllm/v1', endpoint: 'vllm' })).toStrictEqual({
      endpoint: 'vllm',
      issues: [],
    });
    expect(check({ baseUrl: 'http://vllm/v1', endpoint: 'local', model: 'llama3' })).toStrictEqual({
      endpoint: 'local',
      issues: [{ path: 'p.baseUrl', message: NOT_URL }],
    });
    expect(check({ baseUrl: 'http://elsewhere/v1' })).toStrictEqual({
      endpoint: 'default',
      issues: [{ path: 'p.baseUrl', message: NOT_URL }],
    });
  });

  it('names an unknown endpoint', () => {
    expect(check({ endpoint: 'nope' })).toStrictEqual({
      endpoint: undefined,
      issues: [{ path: 'p.endpoint', message: 'not a configured model endpoint' }],
    });
  });

  it("accepts only the endpoint's own key variable", () => {
    expect(check({ endpoint: 'vllm', apiKeyEnv: 'VLLM_KEY' }).issues).toStrictEqual([]);
    expect(check({ apiKeyEnv: 'OPENAI_API_KEY' }).issues).toStrictEqual([]);
    for (const fields of [
      { endpoint: 'vllm', apiKeyEnv: 'OPENAI_API_KEY' },
      { endpoint: 'azure', apiKeyEnv: 'VLLM_KEY' },
      { endpoint: 'local', model: 'qwen', apiKeyEnv: 'VLLM_KEY' },
    ])
      expect(check(fields).issues).toStrictEqual([{ path: 'p.apiKeyEnv', message: NOT_KEY }]);
    expect(check({ endpoint: 'nope', apiKeyEnv: 'VLLM_KEY' }).issues.map((i) => i.path)).toEqual([
      'p.endpoint',
      'p.apiKeyEnv',
    ]);
  });

  it("keeps to an endpoint's allow-list, naming the endpoint", () => {
    expect(check({ endpoint: 'local', model: 'qwen' }).issues).toStrictEqual([]);
    expect(check({ endpoint: 'local', model: 'gpt-4' }).issues).toStrictEqual([
      { path: 'p.model', message: 'not allowed on endpoint "local"' },
    ]);
  });

  it('a scripted model calls no endpoint, so nothing is checked', () => {
    expect(
      check({ provider: 'scripted', endpoint: 'nope', baseUrl: 'http://x/v1', apiKeyEnv: 'K' }),
    ).toStrictEqual({ endpoint: undefined, issues: [] });
  });

  it('without configured endpoints only `default`, keyed by OPENAI_API_KEY, with no URL', () => {
    expect([...defaultOnlyEndpoints.values()]).toStrictEqual([
      { name: 'default', key: { kind: 'env', name: 'OPENAI_API_KEY' } },
    ]);
    expect(check({ apiKeyEnv: 'OPENAI_API_KEY' }, defaultOnlyEndpoints)).toStrictEqual({
      endpoint: 'default',
      issues: [],
    });
  });
});

const spec = (fields: Record<string, unknown>): TeamSpec =>
  teamSpecSchema.parse({
    specVersion: 1,
    name: 't',
    type: 'round_robin',
    agents: [{ name: 'a', model: { model: 'm' } }],
    ...fields,
  });

describe('bindModelEndpoints', () => {
  it('stores a model by endpoint name only when it named one, dropping URL and key variable', () => {
    const bound = bindModelEndpoints(
      spec({
        agents: [
          { name: 'a', model: { model: 'm', baseUrl: 'http://vllm/v1', apiKeyEnv: 'VLLM_KEY' } },
          { name: 'b', model: { model: 'm', apiKeyEnv: 'OPENAI_API_KEY' } },
          { name: 'c' },
          { kind: 'user_proxy', name: 'u' },
        ],
      }),
      endpoints,
    );
    expect(bound.agents.map((a) => (a.kind === 'assistant' ? a.model : a.kind))).toStrictEqual([
      { provider: 'openai', model: 'm', endpoint: 'vllm' },
      { provider: 'openai', model: 'm' },
      undefined,
      'user_proxy',
    ]);
  });

  it('leaves a scripted model as it was written, endpoint included', () => {
    const bound = bindModelEndpoints(
      spec({ agents: [{ name: 'a', model: { provider: 'scripted', model: 's', endpoint: 'x' } }] }),
      endpoints,
    );
    expect(bound.agents[0]).toMatchObject({ model: { provider: 'scripted', model: 's', endpoint: 'x' } });
    expect(Object.keys(bound.agents[0]!.kind === 'assistant' ? bound.agents[0]!.model! : {})).toEqual([
      'provider',
      'endpoint',
      'model',
    ]);
  });

  it("binds the selector's and the orchestrator's models too, naming their paths", () => {
    const bound = bindModelEndpoints(
      spec({
        type: 'selector',
        selector: { model: { model: 'm', baseUrl: 'http://vllm/v1' } },
        magenticOne: { model: { model: 'llama3', baseUrl: 'http://local/v1/' } },
      }),
      endpoints,
    );
    expect(bound.selector?.model).toStrictEqual({ provider: 'openai', model: 'm', endpoint: 'vllm' });
    expect(bound.magenticOne?.model).toStrictEqual({
      provider: 'openai',
      model: 'llama3',
      endpoint: 'local',
    });
    expect(bound.selector?.prompt).toBe(spec({ selector: {} }).selector?.prompt);
    expect(bound.magenticOne?.maxStalls).toBe(3);

    const error = caught(() =>
      bindModelEndpoints(
        spec({
          selector: { model: { model: 'm', endpoint: 'nope' } },
          magenticOne: { model: { model: 'gpt-4', endpoint: 'local' } },
        }),
        endpoints,
      ),
    );
    expect(error).toBeInstanceOf(ModelEndpointRefused);
    expect(error).toMatchObject({
      name: 'ModelEndpointRefused',
      code: 'model_endpoint_refused',
      retryable: false,
      message:
        'model endpoint refused: selector.model.endpoint: not a configured model endpoint; ' +
        'magenticOne.model.model: not allowed on endpoint "local"',
      issues: [
        { path: 'selector.model.endpoint', message: 'not a configured model endpoint' },
        { path: 'magenticOne.model.model', message: 'not allowed on endpoint "local"' },
      ],
    });
  });

  it('keeps a selector or an orchestrator without a model, and adds none that was absent', () => {
    const withoutModels = spec({ selector: { prompt: 'p' }, magenticOne: { maxStalls: 2 } });
    expect(bindModelEndpoints(withoutModels, endpoints)).toStrictEqual(withoutModels);
    const bare = spec({});
    expect(Object.keys(bindModelEndpoints(bare, endpoints)).sort()).toEqual(Object.keys(bare).sort());
    expect(bindModelEndpoints(bare, endpoints)).toStrictEqual(bare);
  });
});
