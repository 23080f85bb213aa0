import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTokenBuckets } from '@agentledger/sessions';
import { tracesUrlOf } from '@agentledger/telemetry/sdk';
import { parseGatewayConfig } from './gateway.config.ts';

describe('gateway configuration', () => {
  it('has defaults for everything', () => {
    expect(parseGatewayConfig({})).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 3000,
      GRPC_PORT: 50051,
      BODY_LIMIT_BYTES: 1024 * 1024,
      AGENTLEDGER_API_KEYS: [],
    });
  });

  it('reads tenant:key pairs; a key may contain a colon', () => {
    const config = parseGatewayConfig({ AGENTLEDGER_API_KEYS: 'tenantA:keyA, tenantB:key:B,' });
    expect(config.AGENTLEDGER_API_KEYS).toEqual([
      { tenantId: 'tenantA', key: 'keyA' },
      { tenantId: 'tenantB', key: 'key:B' },
    ]);
  });

  it('exports no span unless the operator names an OTLP endpoint (a URL, from the environment only)', () => {
    expect(tracesUrlOf(parseGatewayConfig({}))).toBeUndefined();
    const configured = parseGatewayConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
    expect(tracesUrlOf(configured)).toBe('http://collector:4318/v1/traces');
    const parse = () =>
      parseGatewayConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector-without-scheme' });
    expect(parse).toThrow(/OTEL_EXPORTER_OTLP_TRACES_ENDPOINT/);
    expect(parse).not.toThrow(/collector-without-scheme/);
  });

  it('names every bad variable without echoing values', () => {
    const parse = () => parseGatewayConfig({ PORT: 'x', AGENTLEDGER_API_KEYS: 'no-separator-secret' });
    expect(parse).toThrow(/PORT/);
    expect(parse).toThrow(/AGENTLEDGER_API_KEYS/);
    expect(parse).not.toThrow(/no-separator-secret/);
  });

  it('reads the operator model endpoints (JSON or a file) and names a bad key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'endpoints-'));
    const file = join(dir, 'endpoints.json');
    writeFileSync(file, JSON.stringify({ local: { baseUrl: 'http://127.0.0.1:11434/v1' } }));
    try {
      const config = parseGatewayConfig({ AGENTLEDGER_MODEL_ENDPOINTS: file });
      expect([...config.MODEL_ENDPOINTS.keys()].sort()).toEqual(['default', 'local']);
      const bad = () =>
        parseGatewayConfig({
          PORT: 'x',
          AGENTLEDGER_MODEL_ENDPOINTS: '{"local": {"baseUrl": "sk-not-a-url"}}',
        });
      expect(bad).toThrow(/PORT/);
      expect(bad).toThrow(/AGENTLEDGER_MODEL_ENDPOINTS\.local\.baseUrl/);
      expect(bad).not.toThrow(/sk-not-a-url/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('per-tenant token buckets', () => {
  it('allows the burst, then asks to retry after the refill time, per tenant', () => {
    let now = 0;
    const buckets = createTokenBuckets({ requestsPerSecond: 2, burst: 3 }, () => now);
    expect([1, 2, 3].map(() => buckets.take('a').allowed)).toEqual([true, true, true]);
    expect(buckets.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(buckets.take('b').allowed).toBe(true);
    now = 500;
    expect(buckets.take('a').allowed).toBe(true);
  });
});
