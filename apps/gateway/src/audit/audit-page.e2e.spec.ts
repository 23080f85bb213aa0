import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureChromium } from '../testing/chromium.ts';
import { AUDIT_PAGE_CSP } from './audit-page.ts';
import {
  answerModelCall,
  KEYS,
  request,
  startTestGateway,
  type TestGateway,
} from '../testing/test-gateway.ts';

const SCREENSHOT = fileURLToPath(new URL('../../../../reports/audit-page.png', import.meta.url));
const scripted = { provider: 'scripted', model: 'scripted' };

/** The golden swarm (libs/agents __golden__/swarm-handoff-approval.json) as a team spec. */
const refundsTeam = {
  specVersion: 1,
  name: 'refunds',
  type: 'swarm',
  agents: [
    { name: 'triage', systemMessage: 'Route refunds.', model: scripted, handoffs: ['refunder'] },
    {
      name: 'refunder',
      systemMessage: 'Compute refunds.',
      model: scripted,
      tools: ['calculator'],
      approvalRequired: ['calculator'],
      handoffs: ['user'],
    },
  ],
  termination: { kind: 'handoff', target: 'user' },
};

type State = { status: string; pending: { approvals: { toolCallId: string }[] } };

/**
 * Records the golden swarm's conversation through the gateway, playing the orchestrator: a handoff,
 * a calculator call approved over REST, its result, a handoff back to the user.
 */
const recordSwarmSession = async (gateway: TestGateway, sessionId: string): Promise<void> => {
  const put = await request(gateway, 'PUT', '/v1/teams/refunds', { key: KEYS.a, body: refundsTeam });
  expect(put.status).toBe(200);
  const post = (path: string, body: unknown) => request(gateway, 'POST', path, { key: KEYS.a, body });
  expect((await post('/v1/sessions', { teamId: 'refunds', sessionId })).status).toBe(201);
  expect(
    (await post(`/v1/sessions/${sessionId}/messages`, { content: 'Refund 20 off my 100 order' })).status,
  ).toBe(202);
  await answerModelCall(gateway, 'tenant-a', sessionId, null, [
    { id: 'call_1', name: 'transfer_to_refunder', arguments: '{}' },
  ]);
  await answerModelCall(gateway, 'tenant-a', sessionId, null, [
    { id: 'call_2', name: 'calculator', arguments: '{"a":100,"b":20,"operator":"-"}' },
  ]);
  const state = (await (
    await request(gateway, 'GET', `/v1/sessions/${sessionId}`, { key: KEYS.a })
  ).json()) as State;
  expect(state.status).toBe('awaiting_approval');
  const toolCallId = state.pending.approvals[0]!.toolCallId;
  expect((await post(`/v1/sessions/${sessionId}/approvals/${toolCallId}`, { approve: true })).status).toBe(
    202,
  );
  await gateway.sessions.handle(
    {
      type: 'RecordToolResult',
      data: { toolCallId, outcome: 'completed', result: '80', latencyMs: 4 },
      metadata: { commandId: `${toolCallId}:result`, correlationId: toolCallId, now: new Date() },
    },
    { tenantId: 'tenant-a', sessionId: sessionId },
  );
  await answerModelCall(gateway, 'tenant-a', sessionId, 'Refund of 80 approved.', [
    { id: 'call_3', name: 'transfer_to_user', arguments: '{}' },
  ]);
};

// The audit page in a real browser (Debian's chromium via playwright-core) against a running
// gateway: key once, session list, timeline lanes and entries, verdicts, the version slider.
describe('audit page in a browser', () => {
  let gateway: TestGateway;
  let browser: Browser;
  let page: Page;
  const sessionId = 'audit-swarm';

  beforeAll(async () => {
    const executablePath = ensureChromium();
    gateway = await startTestGateway();
    await recordSwarmSession(gateway, sessionId);
    await request(gateway, 'POST', '/v1/sessions', {
      key: KEYS.a,
      body: { teamId: 'refunds', sessionId: 'other' },
    });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  it('is served built, under a strict CSP, at /audit', async () => {
    const redirect = await fetch(`${gateway.url}/audit`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/audit/');
    const html = await fetch(`${gateway.url}/audit/`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-security-policy')).toBe(AUDIT_PAGE_CSP);
    const text = await html.text();
    expect(text).toMatch(/<script type="module" crossorigin src="\/audit\/assets\/[\w-]+\.js"><\/script>/);
    expect(text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
  });

  it('lists sessions, shows the timeline and verdicts, and the slider shows the state at a version', async () => {
    const violations: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') violations.push(message.text());
    });
    await page.goto(`${gateway.url}/audit/`);
    await page.getByLabel('API key').fill(KEYS.a);
    await page.getByRole('button', { name: 'Open the audit' }).click();
    expect(await page.evaluate("sessionStorage.getItem('agentledger.audit.apiKey')")).toBe(KEYS.a);
    expect(await page.evaluate('localStorage.length + document.cookie.length')).toBe(0);

    await page.getByLabel('Status').selectOption('awaiting_input');
    await expect.poll(() => page.locator('table.sessions tbody tr').count()).toBe(1);
    // The date filters go to the server (createdAfter / createdBefore), not over the loaded page.
    const filtered = page.waitForRequest((r) => r.url().includes('createdBefore=2000-01-01'));
    await page.getByLabel('Created before').fill('2000-01-01');
    await filtered;
    await page.getByText('No sessions match.').waitFor();
    expect(await page.locator('table.sessions tbody tr').count()).toBe(0);
    await page.getByLabel('Created before').fill('');
    const since = page.waitForRequest((r) => r.url().includes('createdAfter=2000-01-01'));
    await page.getByLabel('Created on or after').fill('2000-01-01');
    await since;
    await expect.poll(() => page.locator('table.sessions tbody tr').count()).toBe(1);
    await page.getByRole('link', { name: sessionId }).click();

    await page.getByText('Timeline').waitFor();
    expect(await page.locator('.lane-head').allTextContents()).toEqual([
      'v',
      'user',
      'triage',
      'refunder',
      'session',
    ]);
    const entries = await page.getByTestId('entry').allInnerTexts();
    const joined = entries.join('\n---\n');
    expect(joined).toContain('User message\nRefund 20 off my 100 order');
    expect(joined).toContain('Handoff → refunder');
    expect(joined).toMatch(
      /Model call\nscripted\ntokens 5 in · 3 out\n1 ms\ntool_calls\n→\scalculator\(\{"a":100,"b":20,"operator":"-"\}\)/,
    );
    expect(joined).toContain('Tool call calculator\n{"a":100,"b":20,"operator":"-"}');
    expect(joined).toContain('Approval requested: calculator');
    expect(joined).toContain('Approved');
    expect(joined).toContain('Tool result\n4 ms\n80');
    expect(joined).toContain('Handoff → user');
    expect(await page.getByTestId('verdict-Hash chain').innerText()).toMatch(/valid/);
    expect(await page.getByTestId('verdict-Replay').innerText()).toMatch(/matches/);
    expect(await page.getByTestId('verdict-Checkpoints').innerText()).toMatch(/off \(no signing key\)/);

    await expect.poll(() => page.getByTestId('state-status').innerText()).toBe('awaiting_input');
    const approvalVersion = Number(
      await page.locator('.row', { hasText: 'Approval requested' }).getAttribute('data-version'),
    );
    await page.getByRole('slider').fill(String(approvalVersion));
    await expect.poll(() => page.getByTestId('at-version').innerText()).toBe(String(approvalVersion));
    await expect.poll(() => page.getByTestId('state-status').innerText()).toBe('awaiting_approval');
    expect(await page.getByTestId('state-pending').innerText()).toBe('approval of calculator (refunder)');
    expect(await page.locator('.row.future').count()).toBeGreaterThan(0);

    await mkdir(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(violations).toEqual([]);
  });
});
