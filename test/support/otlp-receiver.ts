import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

type AnyValue = Readonly<{
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: Readonly<{ values?: readonly AnyValue[] }>;
}>;
type KeyValue = Readonly<{ key: string; value: AnyValue }>;
type OtlpSpan = Readonly<{
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: readonly KeyValue[];
}>;
type ExportRequest = Readonly<{
  resourceSpans?: readonly Readonly<{
    resource?: Readonly<{ attributes?: readonly KeyValue[] }>;
    scopeSpans?: readonly Readonly<{ spans?: readonly OtlpSpan[] }>[];
  }>[];
}>;

export type ReceivedSpan = Readonly<{
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Readonly<Record<string, unknown>>;
}>;

const valueOf = (value: AnyValue): unknown => {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(valueOf);
  return undefined;
};

const attributesOf = (list: readonly KeyValue[] = []): Record<string, unknown> =>
  Object.fromEntries(list.map((kv) => [kv.key, valueOf(kv.value)]));

/**
 * A local OTLP/HTTP receiver (the http/json protocol at `/v1/traces`): what the real processes
 * export when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` points here.
 */
export const startOtlpReceiver = async () => {
  const spans: ReceivedSpan[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      const exported = JSON.parse(body) as ExportRequest;
      for (const resourceSpans of exported.resourceSpans ?? []) {
        const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
        for (const scope of resourceSpans.scopeSpans ?? [])
          for (const span of scope.spans ?? [])
            spans.push({
              service,
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId ?? '',
              name: span.name,
              kind: span.kind,
              attributes: attributesOf(span.attributes),
            });
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans: (): readonly ReceivedSpan[] => spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
