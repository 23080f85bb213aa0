import { z } from 'zod';
import { readJsonSetting } from './json-setting.ts';

/** Where an endpoint's API key comes from, chosen by the operator; read at call time, never stored. */
export type KeySource = Readonly<{ kind: 'env'; name: string }> | Readonly<{ kind: 'file'; path: string }>;

/** One operator-configured model endpoint. Specs name it; they never carry its URL or key. */
export type ModelEndpoint = Readonly<{
  name: string;
  /** Absent: the provider's public API (OpenAI), or no endpoint at all for `default` (demo client). */
  baseUrl?: string;
  key?: KeySource;
  /** Models a spec may ask for here; absent: any. */
  models?: readonly string[];
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** False: calls are never streamed (a server without `stream_options.include_usage`). */
  stream?: boolean;
}>;

export type ModelEndpoints = ReadonlyMap<string, ModelEndpoint>;

/**
 * Reads a secret the operator named (an env var, or a file, trimmed) when it is needed; undefined
 * when absent or unreadable. Model endpoint keys and MCP server headers both come through here.
 */
export const secretReader =
  (env: Readonly<Record<string, string | undefined>>, readFile?: (path: string) => string) =>
  (source: KeySource | undefined): string | undefined => {
    if (source?.kind === 'env') return env[source.name] || undefined;
    if (source?.kind === 'file' && readFile) {
      try {
        return readFile(source.path).trim() || undefined;
      } catch {
        return undefined;
      }
    }
    return undefined;
  };

export const DEFAULT_ENDPOINT = 'default';

const endpointName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, . _ -');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

const endpointEntrySchema = z
  .strictObject({
    baseUrl: z.url({ protocol: /^https?$/ }),
    apiKeyEnv: envName.optional(),
    apiKeyFile: z.string().min(1).optional(),
    models: z.array(z.string().min(1)).min(1).optional(),
    requestsPerMinute: z.number().int().positive().optional(),
    tokensPerMinute: z.number().int().positive().optional(),
    stream: z.boolean().optional(),
  })
  .refine((e) => !(e.apiKeyEnv && e.apiKeyFile), {
    message: 'give apiKeyEnv or apiKeyFile, not both',
    path: ['apiKeyFile'],
  });

const endpointsSchema = z.record(endpointName, endpointEntrySchema);

/** A configuration problem, naming the key (values are never echoed: they may be secrets). */
export class InvalidModelEndpoints extends Error {
  readonly code = 'invalid_model_endpoints';
  readonly retryable = false;
}

/** `http://h/v1/` and `http://h/v1` are one endpoint. */
export const normalizeBaseUrl = (url: string): string => url.replace(/\/+$/, '');

const VARIABLE = 'AGENTLEDGER_MODEL_ENDPOINTS';

/**
 * The operator's model endpoints: `AGENTLEDGER_MODEL_ENDPOINTS` (a JSON object, or the path of a
 * file holding one) plus `default` from `OPENAI_BASE_URL` / `OPENAI_API_KEY` unless the JSON
 * defines `default` itself. Throws `InvalidModelEndpoints` naming the bad key.
 */
export const parseModelEndpoints = (
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): ModelEndpoints => {
  const endpoints = new Map<string, ModelEndpoint>();
  const defaultUrl = env['OPENAI_BASE_URL'];
  if (defaultUrl !== undefined && defaultUrl !== '' && !z.url().safeParse(defaultUrl).success)
    throw new InvalidModelEndpoints('OPENAI_BASE_URL: not a URL');
  endpoints.set(DEFAULT_ENDPOINT, {
    name: DEFAULT_ENDPOINT,
    ...(defaultUrl ? { baseUrl: normalizeBaseUrl(defaultUrl) } : {}),
    key: { kind: 'env', name: 'OPENAI_API_KEY' },
  });
  const raw = env[VARIABLE];
  if (raw === undefined || raw.trim() === '') return endpoints;
  const parsed = endpointsSchema.safeParse(
    readJsonSetting(VARIABLE, raw, readFile, (message) => new InvalidModelEndpoints(message)),
  );
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${[VARIABLE, ...i.path].join('.')}: ${i.message}`);
    throw new InvalidModelEndpoints(issues.join('; '));
  }
  for (const [name, e] of Object.entries(parsed.data)) {
    const key: KeySource | undefined = e.apiKeyEnv
      ? { kind: 'env', name: e.apiKeyEnv }
      : e.apiKeyFile
        ? { kind: 'file', path: e.apiKeyFile }
        : undefined;
    endpoints.set(name, {
      name,
      baseUrl: normalizeBaseUrl(e.baseUrl),
      ...(key ? { key } : {}),
      ...(e.models ? { models: e.models } : {}),
      ...(e.requestsPerMinute ? { requestsPerMinute: e.requestsPerMinute } : {}),
      ...(e.tokensPerMinute ? { tokensPerMinute: e.tokensPerMinute } : {}),
      ...(e.stream === false ? { stream: false } : {}),
    });
  }
  return endpoints;
};

/** The endpoint whose base URL is `url` (after normalisation), if the operator configured one. */
export const endpointByBaseUrl = (endpoints: ModelEndpoints, url: string): ModelEndpoint | undefined =>
  [...endpoints.values()].find((e) => e.baseUrl !== undefined && e.baseUrl === normalizeBaseUrl(url));

/** `parseModelEndpoints` for a configuration parser that collects every problem before throwing. */
export const readModelEndpoints = (
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): Readonly<{ endpoints: ModelEndpoints }> | Readonly<{ problem: string }> => {
  try {
    return { endpoints: parseModelEndpoints(env, readFile) };
  } catch (error) {
    if (error instanceof InvalidModelEndpoints) return { problem: error.message };
    throw error;
  }
};
