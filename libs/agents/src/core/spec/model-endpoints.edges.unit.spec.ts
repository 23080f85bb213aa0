import { describe, expect, it } from 'vitest';
import { caught } from '@agentledger/testing';
import {
  endpointByBaseUrl,
  InvalidModelEndpoints,
  normalizeBaseUrl,
  parseModelEndpoints,
  readModelEndpoints,
  secretReader,
} from './model-endpoints.ts';

const noFiles = (path: string): string => {
  throw new Error(`unexpected read of ${path}`);
};

/** The message of the `InvalidModelEndpoints` that `raw` as AGENTLEDGER_MODEL_ENDPOINTS throws. */
const problem = (raw: unknown): string => {
  const error = caught(() =>
    parseModelEndpoints({ AGENTLEDGER_MODEL_ENDPOINTS: JSON.stringify(raw) }, noFiles),
  );
  expect(error).toBeInstanceOf(InvalidModelEndpoints);
  return (error as Error).message;
};
const accepts = (raw: unknown): readonly string[] => [
  ...parseModelEndpoints({ AGENTLEDGER_MODEL_ENDPOINTS: JSON.stringify(raw) }, noFiles).keys(),
];

describe('secretReader', () => {
  const files = (path: string): string => {
    if (path === '/run/key') return '  sk-file \n';
    if (path === '/run/empty') return ' \n';
    throw new Error('ENOENT');
  };
  const read = secretReader({ KEY: 'sk-env', EMPTY: '' }, files);

  it('reads an env var, and an empty or missing one as absent', () => {
    expect(read({ kind: 'env', name: 'KEY' })).toBe('sk-env');
    expect(read({ kind: 'env', name: 'EMPTY' })).toBeUndefined();
    expect(read({ kind: 'env', name: 'MISSING' })).toBeUndefined();
    expect(read(undefined)).toBeUndefined();
  });

  it('reads a file trimmed; an empty or unreadable file is absent', () => {
    expect(read({ kind: 'file', path: '/run/key' })).toBe('sk-file');
    expect(read({ kind: 'file', path: '/run/empty' })).toBeUndefined();
    expect(read({ kind: 'file', path: '/run/missing' })).toBeUndefined();
  });

  it('without a file reader a file source is absent, and an env name is not a path', () => {
    expect(secretReader({ '/run/key': 'sk-env' })({ kind: 'file', path: '/run/key' })).toBeUndefined();
    expect(secretReader({}, () => 'sk-file')({ kind: 'env', name: '/run/key' })).toBeUndefined();
  });
});

describe('parseModelEndpoints, the edges', () => {
  it('an empty OPENAI_BASE_URL is no URL, and a blank AGENTLEDGER_MODEL_ENDPOINTS no endpoints', () => {
    const endpoints = parseModelEndpoints(
      { OPENAI_BASE_URL: '', AGENTLEDGER_MODEL_ENDPOINTS: '  \n' },
      noFiles,
    );
    expect([...endpoints.values()]).toStrictEqual([
      { name: 'default', key: { kind: 'env', name: 'OPENAI_API_KEY' } },
    ]);
  });

  it('refuses a URL in OPENAI_BASE_URL with its own message', () => {
    expect(caught(() => parseModelEndpoints({ OPENAI_BASE_URL: 'nope' }, noFiles))).toMatchObject({
      message: 'OPENAI_BASE_URL: not a URL',
      code: 'invalid_model_endpoints',
      retryable: false,
    });
  });

  it('an endpoint with only a URL has no other field, not even an undefined one', () => {
    const endpoints = parseModelEndpoints(
      { AGENTLEDGER_MODEL_ENDPOINTS: '{"bare": {"baseUrl": "https://h/v1//"}}' },
      noFiles,
    );
    expect(endpoints.get('bare')).toStrictEqual({ name: 'bare', baseUrl: 'https://h/v1' });
  });

  it('a JSON `default` replaces the one from OPENAI_BASE_URL', () => {
    const endpoints = parseModelEndpoints(
      {
        OPENAI_BASE_URL: 'http://env/v1',
        AGENTLEDGER_MODEL_ENDPOINTS: '{"default": {"baseUrl": "http://json/v1", "stream": true}}',
      },
      noFiles,
    );
    expect(endpoints.get('default')).toStrictEqual({ name: 'default', baseUrl: 'http://json/v1' });
  });

  it('endpoint names: letters, digits, . _ - after a letter or digit, at most 64', () => {
    const url = { baseUrl: 'http://h' };
    expect(accepts({ 'my_end-point.1': url, ['a'.repeat(64)]: url })).toEqual([
      'default',
      'my_end-point.1',
      'a'.repeat(64),
    ]);
    for (const name of ['-x', '.x', '_x', 'x!', 'a b', 'a'.repeat(65), ''])
      expect(problem({ [name]: url })).toBe(`AGENTLEDGER_MODEL_ENDPOINTS.${name}: Invalid key in record`);
  });

  it('key variables: an environment variable name', () => {
    expect(accepts({ x: { baseUrl: 'http://h', apiKeyEnv: '_A_1' } })).toContain('x');
    for (const name of ['1A', 'A-B', 'A B', 'Ä', ''])
      expect(problem({ x: { baseUrl: 'http://h', apiKeyEnv: name } })).toBe(
        'AGENTLEDGER_MODEL_ENDPOINTS.x.apiKeyEnv: an environment variable name',
      );
  });

  it('base URLs: http or https only', () => {
    expect(accepts({ a: { baseUrl: 'http://h' }, b: { baseUrl: 'https://h' } })).toEqual([
      'default',
      'a',
      'b',
    ]);
    for (const baseUrl of ['ftp://h', 'xhttp://h', 'httpx://h', 'httpss://h'])
      expect(problem({ x: { baseUrl } })).toMatch(/^AGENTLEDGER_MODEL_ENDPOINTS\.x\.baseUrl: /);
  });

  it('refuses an empty key file, an empty model name and limits that are not positive integers', () => {
    expect(problem({ x: { baseUrl: 'http://h', apiKeyFile: '' } })).toMatch(
      /^AGENTLEDGER_MODEL_ENDPOINTS\.x\.apiKeyFile: /,
    );
    expect(problem({ x: { baseUrl: 'http://h', models: [''] } })).toMatch(
      /^AGENTLEDGER_MODEL_ENDPOINTS\.x\.models\.0: /,
    );
    for (const limit of [0, -1, 1.5]) {
      expect(problem({ x: { baseUrl: 'http://h', requestsPerMinute: limit } })).toMatch(
        /^AGENTLEDGER_MODEL_ENDPOINTS\.x\.requestsPerMinute: /,
      );
      expect(problem({ x: { baseUrl: 'http://h', tokensPerMinute: limit } })).toMatch(
        /^AGENTLEDGER_MODEL_ENDPOINTS\.x\.tokensPerMinute: /,
      );
    }
  });

  it('says why two key sources are refused, and lists every problem', () => {
    expect(problem({ x: { baseUrl: 'http://h', apiKeyEnv: 'A', apiKeyFile: '/f' } })).toBe(
      'AGENTLEDGER_MODEL_ENDPOINTS.x.apiKeyFile: give apiKeyEnv or apiKeyFile, not both',
    );
    expect(problem({ x: { baseUrl: 'http://h', stream: 'no' }, y: {} }).split('; ')).toEqual([
      expect.stringMatching(/^AGENTLEDGER_MODEL_ENDPOINTS\.x\.stream: /),
      expect.stringMatching(/^AGENTLEDGER_MODEL_ENDPOINTS\.y\.baseUrl: /),
    ]);
  });
});

describe('normalizeBaseUrl and endpointByBaseUrl', () => {
  const endpoints = parseModelEndpoints(
    { AGENTLEDGER_MODEL_ENDPOINTS: '{"vllm": {"baseUrl": "http://vllm:8000/v1/"}}' },
    noFiles,
  );

  it('drops every trailing slash and nothing else', () => {
    expect(normalizeBaseUrl('http://h/v1///')).toBe('http://h/v1');
    expect(normalizeBaseUrl('http://h/v1')).toBe('http://h/v1');
  });

  it('finds the endpoint of a URL with or without a trailing slash, and none for `default` without a URL', () => {
    expect(endpointByBaseUrl(endpoints, 'http://vllm:8000/v1/')?.name).toBe('vllm');
    expect(endpointByBaseUrl(endpoints, 'http://vllm:8000/v1')?.name).toBe('vllm');
    expect(endpointByBaseUrl(endpoints, 'http://other/v1')).toBeUndefined();
    expect(endpointByBaseUrl(endpoints, '')).toBeUndefined();
  });
});

describe('readModelEndpoints', () => {
  it('returns the endpoints, or the problem instead of throwing it', () => {
    const read = readModelEndpoints({ OPENAI_BASE_URL: 'http://h/v1' }, noFiles);
    expect('endpoints' in read && read.endpoints.get('default')?.baseUrl).toBe('http://h/v1');
    expect(readModelEndpoints({ OPENAI_BASE_URL: 'nope' }, noFiles)).toStrictEqual({
      problem: 'OPENAI_BASE_URL: not a URL',
    });
  });

  it('lets any other error through', () => {
    const env = {
      get OPENAI_BASE_URL(): string {
        throw new TypeError('boom');
      },
    };
    expect(() => readModelEndpoints(env, noFiles)).toThrow(TypeError);
  });
});
