import { describe, expect, it } from 'vitest';
import { operations, type OperationShape } from '@agentledger/client';
import { gatewayOperations } from '../../apps/gateway/src/http/gateway-app.ts';
import { buildOpenApiDocument } from '../../apps/gateway/src/openapi/openapi-document.ts';

type DocumentOperation = Readonly<{
  operationId: string;
  parameters: readonly Readonly<{ name: string; in: string }>[];
  requestBody?: Readonly<{ content: Readonly<Record<string, unknown>> }>;
  responses: Readonly<Record<string, unknown>>;
}>;

/** `bodyContentType` as the client's table has it: present only for a body that is not JSON. */
const nonJsonBody = (operation: DocumentOperation): Pick<OperationShape, 'bodyContentType'> => {
  const type = Object.keys(operation.requestBody?.content ?? {})[0];
  return type === undefined || type === 'application/json'
    ? {}
    : { bodyContentType: type as NonNullable<OperationShape['bodyContentType']> };
};

/** Each operation of the OpenAPI document in the client's table form. */
const documentShapes = (): Record<string, OperationShape> => {
  const document = buildOpenApiDocument(gatewayOperations, 'test');
  const shapes: Record<string, OperationShape> = {};
  for (const [path, methods] of Object.entries(document.paths))
    for (const [method, raw] of Object.entries(methods)) {
      const operation = raw as DocumentOperation;
      const names = (where: string) => operation.parameters.filter((p) => p.in === where).map((p) => p.name);
      shapes[operation.operationId] = {
        method: method as OperationShape['method'],
        path,
        query: names('query'),
        headers: names('header').map((name) => name.toLowerCase()),
        body: operation.requestBody !== undefined,
        ...nonJsonBody(operation),
        success: Object.keys(operation.responses)
          .map(Number)
          .filter(
            (status) =>
              (status >= 200 && status < 300) || (operation.operationId === 'ready' && status === 503),
          ),
      };
    }
  return shapes;
};

const normalise = (shape: OperationShape) => ({
  ...shape,
  query: [...shape.query].sort(),
  headers: [...shape.headers].sort(),
  success: [...shape.success].sort(),
});

describe("the client's operations against the gateway's OpenAPI document", () => {
  const fromDocument = documentShapes();

  it('covers every operation the API has, and offers none it lacks', () => {
    expect(Object.keys(operations).sort()).toEqual(Object.keys(fromDocument).sort());
  });

  it.each(Object.keys(operations))('%s has the same method, path, parameters, body and statuses', (id) => {
    expect(normalise(operations[id as keyof typeof operations])).toEqual(normalise(fromDocument[id]!));
  });
});
