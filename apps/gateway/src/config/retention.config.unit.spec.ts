import { describe, expect, it } from 'vitest';
import { parseRetentionPolicies } from './retention.config.ts';

const noFile = (path: string): string => {
  throw new Error(`no file ${path}`);
};

describe('AGENTLEDGER_RETENTION', () => {
  it('keeps everything when unset', () => {
    expect(parseRetentionPolicies(undefined, noFile)).toEqual({
      default: { kind: 'keep_forever' },
      tenants: {},
      idempotencyKeyHours: 24,
    });
  });

  it('reads JSON text or a file', () => {
    const text = '{"tenants":{"acme":{"kind":"expire","deleteClosedAfterDays":30}},"idempotencyKeyHours":48}';
    const fromText = parseRetentionPolicies(text, noFile);
    expect(fromText).toMatchObject({
      tenants: { acme: { kind: 'expire', deleteClosedAfterDays: 30 } },
      idempotencyKeyHours: 48,
    });
    expect(parseRetentionPolicies('/etc/agentledger/retention.json', () => text)).toEqual(fromText);
  });

  it('names the bad field', () => {
    expect(
      parseRetentionPolicies('{"tenants":{"acme":{"kind":"expire","deleteClosedAfterDays":-1}}}', noFile),
    ).toEqual({
      problem: expect.stringContaining('AGENTLEDGER_RETENTION.tenants.acme.deleteClosedAfterDays'),
    });
    expect(parseRetentionPolicies('{"tenants":{"bad id":{"kind":"keep_forever"}}}', noFile)).toMatchObject({
      problem: expect.stringContaining('AGENTLEDGER_RETENTION.tenants'),
    });
    expect(
      parseRetentionPolicies('{"default":{"kind":"expire","webhook":"http://x"}}', noFile),
    ).toMatchObject({
      problem: expect.stringContaining('AGENTLEDGER_RETENTION.default'),
    });
    expect(parseRetentionPolicies('missing.json', noFile)).toMatchObject({
      problem: expect.stringContaining('readable'),
    });
  });
});
