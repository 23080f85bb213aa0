import { z } from 'zod';
import type { ApiOperation, ApiResponse } from './api-operation.ts';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem.ts';

type JsonSchema = Record<string, unknown>;

/** Shared definitions (recursive schemas) hoisted to components.schemas, uniquely named. */
const definitions: Record<string, unknown> = {};

const toJsonSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const {
    $schema: _ignored,
    $defs,
    ...rest
  } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  if ($defs === undefined) return rest;
  const prefix = `S${Object.keys(definitions).length}_`;
  const rename = (value: unknown): unknown =>
    JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', `"#/components/schemas/${prefix}`));
  for (const [name, definition] of Object.entries($defs as JsonSchema))
    definitions[`${prefix}${name}`] = rename(definition);
  return rename(rest) as JsonSchema;
};

const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  code: z.string(),
  instance: z.string().optional(),
  errors: z
    .array(
      z.object({
        in: z.enum(['body', 'query', 'path', 'header', 'metadata']),
        field: z.string(),
        pointer: z.string().optional(),
        message: z.string(),
      }),
    )
    .optional(),
});

const parameters = (schema: z.ZodObject | undefined, location: 'path' | 'query' | 'header'): JsonSchema[] =>
  Object.entries(schema?.shape ?? {}).map(([name, field]) => ({
    name,
    in: location,
    required: location === 'path' || !(field as z.ZodType).safeParse(undefined).success,
    schema: toJsonSchema(field as z.ZodType, 'input'),
  }));

const problemResponse = (description: string) => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
});

const response = (status: number, { description, schema, contentType }: ApiResponse) =>
  status >= 400 && schema === undefined
    ? problemResponse(description)
    : {
        description,
        ...(schema === undefined
          ? {}
          : { content: { [contentType ?? 'application/json']: { schema: toJsonSchema(schema, 'output') } } }),
      };

const commonProblems = (operation: ApiOperation): Record<string, ReturnType<typeof problemResponse>> => ({
  ...(operation.params || operation.query || operation.body || operation.headers
    ? { 400: problemResponse('Invalid body, query, id or header: `errors` names each field') }
    : {}),
  ...(operation.scope === undefined
    ? {}
    : {
        401: problemResponse('Missing or unknown API key'),
        403: problemResponse('The key lacks the scope'),
        429: problemResponse('Rate limited: see Retry-After'),
      }),
  ...(operation.body === undefined
    ? {}
    : { 413: problemResponse('Body over the limit'), 415: problemResponse('Not application/json') }),
});

/** The OpenAPI 3.1 document of the REST API, derived from the operations' zod schemas. */
export const buildOpenApiDocument = (operations: readonly ApiOperation[], version: string) => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    const responses = Object.fromEntries(
      Object.entries(operation.responses).map(([status, spec]) => [status, response(Number(status), spec)]),
    );
    paths[operation.path] = {
      ...paths[operation.path],
      [operation.method]: {
        operationId: operation.operationId,
        summary: operation.summary,
        tags: [operation.tag],
        security: operation.scope === undefined ? [] : [{ apiKey: [] }],
        parameters: [
          ...parameters(operation.params, 'path'),
          ...parameters(operation.query, 'query'),
          ...parameters(operation.headers, 'header'),
        ],
        ...(operation.body === undefined
          ? {}
          : {
              requestBody: {
                required: true,
                content: {
                  [operation.bodyContentType ?? 'application/json']: {
                    schema: toJsonSchema(operation.body, 'input'),
                  },
                },
              },
            }),
        responses: { ...commonProblems(operation), ...responses },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'AgentLedger API',
      version,
      description: 'Event-sourced sessions of AutoGen-style agent teams. Errors are RFC 9457 problem+json.',
    },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API key>' },
      },
      schemas: { Problem: toJsonSchema(problemSchema, 'output'), ...definitions },
    },
    paths,
  };
};
