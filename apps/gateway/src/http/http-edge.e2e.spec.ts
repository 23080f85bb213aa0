import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../errors/problem.ts';
import { LISTEN_BACKLOG } from './gateway-app.ts';
import { bearer, KEYS, singleTeamSpec, startTestGateway, type TestGateway } from '../testing/test-gateway.ts';

type OpenApi = { openapi: string; paths: Record<string, Record<string, { parameters: unknown[] }>> };
const problemOf = async (response: Response): Promise<Problem> => (await response.json()) as Problem;

const spec = singleTeamSpec();

describe('the REST edge over a real socket', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(async () => {
    await gateway.close();
  });

  const call = (path: string, init: RequestInit = {}) => fetch(`${gateway.url}${path}`, init);
  const putJson = (path: string, body: unknown, key: string = KEYS.a, headers: Record<string, string> = {}) =>
    call(path, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...bearer(key), ...headers },
      body: JSON.stringify(body),
    });

  // Linux only (ss, /proc): the machines CI runs on. Node's default queue (511) overflowed in a
  // chaos run after a gateway restart on a loaded machine: the kernel dropped ~18,700 SYNs.
  it.runIf(process.platform === 'linux')(
    'listens with a queue of LISTEN_BACKLOG pending connections (as far as the kernel allows), not Node’s 511',
    () => {
      const port = new URL(gateway.url).port;
      const [listener] = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' })
        .trim()
        .split('\n');
      const queue = Number(listener?.trim().split(/\s+/)[2]);
      const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
      expect(queue).toBe(Math.min(LISTEN_BACKLOG, somaxconn));
    },
  );

  it('answers 401 problem+json without a key or with an unknown one', async () => {
    for (const headers of [{}, bearer('nope'), { authorization: 'Basic abc' }]) {
      const response = await call('/v1/teams/support', { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = await problemOf(response);
      expect(problem).toMatchObject({
        status: 401,
        title: 'Unauthorized',
        code: 'unauthenticated',
        instance: '/v1/teams/support',
      });
      expect(problem.type).toBe('urn:agentledger:problem:unauthenticated');
    }
  });

  it('stores a team per tenant: another tenant gets 404', async () => {
    const put = await putJson('/v1/teams/support', spec);
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ teamId: 'support', version: 1 });
    const again = await putJson('/v1/teams/support', spec);
    expect(await again.json()).toEqual({ teamId: 'support', version: 1 });
    const got = await call('/v1/teams/support', { headers: bearer(KEYS.a) });
    expect(await got.json()).toMatchObject({
      teamId: 'support',
      version: 1,
      spec: { name: 'support', type: 'single' },
    });
    const other = await call('/v1/teams/support', { headers: bearer(KEYS.b) });
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('answers 422 when an Idempotency-Key is reused with another body', async () => {
    const headers = { 'idempotency-key': 'put-1' };
    expect((await putJson('/v1/teams/idem', singleTeamSpec('one'), KEYS.a, headers)).status).toBe(200);
    await putJson('/v1/teams/idem', singleTeamSpec('two'));
    const same = await putJson('/v1/teams/idem', singleTeamSpec('one'), KEYS.a, headers);
    expect(await same.json()).toEqual({ teamId: 'idem', version: 1 });
    const reused = await putJson('/v1/teams/idem', singleTeamSpec('three'), KEYS.a, headers);
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({
      code: 'idempotency-key-reused',
      errors: [{ in: 'header', field: 'idempotency-key' }],
    });
  });

  it('answers 400 naming the path id, the body field or the header', async () => {
    const badId = await call('/v1/teams/-bad', { headers: bearer(KEYS.a) });
    expect(badId.status).toBe(400);
    expect((await problemOf(badId)).errors).toEqual([
      expect.objectContaining({ in: 'path', field: 'teamId' }),
    ]);
    const badBody = await putJson('/v1/teams/x', { ...spec, name: 7 });
    expect(badBody.status).toBe(400);
    expect((await problemOf(badBody)).errors).toEqual([
      expect.objectContaining({ in: 'body', field: 'name', pointer: '#/name' }),
    ]);
    const notObject = await putJson('/v1/teams/x', [1, 2]);
    expect((await problemOf(notObject)).errors).toEqual([
      expect.objectContaining({ in: 'body', field: '(body)' }),
    ]);
    const badKey = await putJson('/v1/teams/x', spec, KEYS.a, { 'idempotency-key': 'has space' });
    expect((await problemOf(badKey)).errors).toEqual([
      expect.objectContaining({ in: 'header', field: 'idempotency-key' }),
    ]);
    const badJson = await call('/v1/teams/x', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...bearer(KEYS.a) },
      body: '{"name":',
    });
    expect(badJson.status).toBe(400);
    expect(badJson.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('answers 422 naming the component or tool that cannot run', async () => {
    const unknownTool = await putJson('/v1/teams/x', {
      ...spec,
      agents: [{ ...spec.agents[0], tools: ['web_surfer'] }],
    });
    expect(unknownTool.status).toBe(422);
    expect(await problemOf(unknownTool)).toMatchObject({ code: 'unprocessable' });
    const autogen = await putJson('/v1/teams/x', {
      provider: 'autogen_agentchat.teams.RoundRobinGroupChat',
      component_type: 'team',
      config: {
        participants: [
          {
            provider: 'autogen_ext.agents.web_surfer.MultimodalWebSurfer',
            component_type: 'agent',
            config: {},
          },
        ],
      },
    });
    expect(autogen.status).toBe(422);
    expect((await problemOf(autogen)).detail).toContain('MultimodalWebSurfer');
  });

  it('answers 413 over the body limit and 415 for another content type', async () => {
    const large = await putJson('/v1/teams/x', { name: 'x'.repeat(1024 * 1024) });
    expect(large.status).toBe(413);
    expect(await large.json()).toMatchObject({ status: 413, code: 'payload-too-large' });
    const text = await call('/v1/teams/x', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', ...bearer(KEYS.a) },
      body: 'hi',
    });
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ status: 415, code: 'unsupported-media-type' });
  });

  it('answers 404 problem+json for an unknown route', async () => {
    const response = await call('/v2/nothing');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('serves health, metrics, /openapi.json and /docs without a key', async () => {
    expect(await (await call('/health/live')).json()).toEqual({ status: 'ok' });
    expect(await (await call('/health/ready')).json()).toEqual({ status: 'ok', checks: {} });
    const metrics = await call('/metrics');
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('agentledger_gateway_http_requests_total');
    const openapi = (await (await call('/openapi.json')).json()) as OpenApi;
    expect(openapi.openapi).toBe('3.1.0');
    expect(openapi.paths['/v1/teams/{teamId}']?.['put']?.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'teamId', in: 'path', required: true })]),
    );
    const document = JSON.stringify(openapi);
    const components = (openapi as unknown as { components: { schemas: Record<string, unknown> } }).components
      .schemas;
    for (const [, name] of document.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      expect(components[name ?? ''], `$ref ${name}`).toBeDefined();
    }
    expect(document).not.toContain('"#/$defs/');
    const paths = Object.keys(openapi.paths);
    for (const path of [
      '/v1/sessions',
      '/v1/sessions/{id}/messages',
      '/v1/sessions/{id}/stream',
      '/v1/sessions/{id}/audit',
    ]) {
      expect(paths).toContain(path);
    }
    const docs = await call('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });
});
