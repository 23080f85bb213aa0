import { describe, expect, it } from 'vitest';
import golden from '../../../../libs/agents/src/core/session/__golden__/swarm-handoff-approval.json' with { type: 'json' };
import { buildTimeline } from './timeline.ts';

const events = golden.map((event, i) => ({
  ...event,
  data: event.data as Record<string, unknown>,
  version: i + 1,
  recordedAt: '2026-01-01T00:00:00.000Z',
  hash: `h${i + 1}`,
}));

describe('audit timeline', () => {
  it('puts the golden swarm on one lane per agent, with model, tokens, tools, approvals and handoffs', () => {
    const timeline = buildTimeline(events);
    expect(timeline.lanes).toEqual(['user', 'triage', 'refunder', 'session']);
    const row = (version: number) => timeline.entries.find((entry) => entry.version === version);
    expect(row(2)).toMatchObject({ lane: 'user', kind: 'user', body: 'Refund 20 off my 100 order' });
    expect(row(6)).toMatchObject({
      lane: 'triage',
      kind: 'model',
      facts: ['default model', 'tokens 23 in · 17 out', '0 ms', 'tool_calls'],
      body: '→\u00a0transfer_to_refunder({})',
    });
    expect(row(7)).toMatchObject({ lane: 'triage', kind: 'handoff', title: 'Handoff → refunder' });
    expect(row(12)).toMatchObject({ lane: 'refunder', kind: 'tool', title: 'Tool call calculator' });
    expect(row(13)).toMatchObject({
      lane: 'refunder',
      kind: 'approval',
      title: 'Approval requested: calculator',
    });
    expect(row(14)).toMatchObject({ lane: 'refunder', kind: 'approval', title: 'Approved' });
    expect(row(15)).toMatchObject({ lane: 'refunder', kind: 'tool', title: 'Tool result', body: '80' });
    expect(row(22)).toMatchObject({ lane: 'session', title: 'Turn completed' });
    // requests show with their outcome, handoff messages with their handoff
    expect(timeline.entries.map((entry) => entry.version)).not.toContain(5);
    expect(timeline.entries.map((entry) => entry.version)).not.toContain(8);
  });
});
