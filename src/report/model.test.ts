import { describe, expect, it } from 'vitest';
import { handler } from '../cli/commands/plan.ts';
import type { LearnedEstimate } from '../estimate/types.ts';
import type { Plan } from '../plan/index.ts';
import { SLOTS_PER_WEEK, type TrafficProfile } from '../traffic/types.ts';
import type { WindowProposal } from '../window/types.ts';
import { renderReportHtml } from './html.tsx';
import { renderReportMarkdown } from './markdown.ts';
import { type ReportExtras, reportModel } from './model.ts';

async function planOf(opts: {
  profile: string;
  from?: string;
  to?: string;
  fact?: string[];
  facts?: string;
}) {
  const r = await handler({ to: 'latest', fact: [], ...opts, format: 'json' });
  return r.data as Plan;
}
const securetransport = () =>
  planOf({
    profile: 'securetransport',
    from: '5.2.1 SP4',
    to: '5.5 GA',
    fact: ['platform.id=linux-x86-64'],
  });
const skiff = () => planOf({ profile: 'skiff', facts: 'profiles/skiff/sample-facts.yaml' });

/** A week of traffic, busy by day, quiet at night, quietest on Sunday 02:00-04:00 UTC. */
function traffic(): TrafficProfile {
  const slots = Array.from({ length: SLOTS_PER_WEEK }, (_, i) => {
    const hour = Math.floor(i / 4) % 24;
    const sunday = Math.floor(i / 96) === 6;
    const transfers = sunday && hour >= 2 && hour < 4 ? 0 : hour >= 8 && hour < 18 ? 40 : 8;
    return {
      transfers: transfers * 4,
      bytes: transfers * 4000,
      accounts: Math.min(transfers, 5) * 4,
    };
  });
  return {
    slots,
    weeksCovered: slots.map(() => 4),
    from: Date.UTC(2026, 10, 2),
    to: Date.UTC(2026, 10, 29),
    records: slots.reduce((n, s) => n + s.transfers, 0),
    skipped: { count: 0, examples: [] },
    sources: ['xferlog'],
  };
}

// Sunday 2026-03-29 01:00-04:00 Europe/Paris crosses the change to summer time (02:00 → 03:00).
const windows: WindowProposal[] = [
  {
    start: Date.UTC(2026, 2, 29, 0, 0),
    end: Date.UTC(2026, 2, 29, 2, 0),
    zone: 'Europe/Paris',
    expectedTransfers: 1.4,
    expectedBytes: 2048,
    expectedAccounts: 0.6,
    rank: 2,
    reasons: ['Quiet.'],
  },
  {
    start: Date.UTC(2026, 2, 22, 2, 0),
    end: Date.UTC(2026, 2, 22, 4, 0),
    zone: 'UTC',
    expectedTransfers: 0,
    expectedBytes: 0,
    expectedAccounts: 0,
    rank: 1,
    reasons: ['The quietest slot of the week.'],
  },
];

const learned: LearnedEstimate = {
  hops: [{ from: '5.4 Patch 2', to: '5.5 GA' }],
  downtime: { p50: 300, p90: 420 },
  total: { p50: 900, p90: 1200 },
  validate: { p50: 600, p90: 780 },
  rollback: { p50: 240, p90: 360 },
  phases: [
    { phase: 'stop', p50: 20, p90: 30 },
    { phase: 'switch', p50: 100, p90: 150 },
    { phase: 'migrate', p50: 120, p90: 170 },
    { phase: 'start', p50: 50, p90: 60 },
    { phase: 'probe', p50: 10, p90: 10 },
    { phase: 'validate', p50: 600, p90: 780 },
  ],
  basis: { kind: 'measured', runs: 2, scaledBy: 2, from: ['test', 'preprod'] },
};

describe('reportModel', () => {
  it('draws the chosen path as a chain of hops from the installed version to the target', async () => {
    const plan = await securetransport();

    const { graph } = reportModel(plan);

    const chosen = graph.edges.filter((e) => e.kind === 'chosen');
    expect(chosen.map((e) => e.to)).toEqual(plan.steps.map((s) => s.to));
    expect(chosen[0]?.from).toBe(plan.from);
    for (let k = 1; k < chosen.length; k++) expect(chosen[k]?.from).toBe(chosen[k - 1]?.to);
    expect(graph.nodes.find((n) => n.kind === 'installed')?.id).toBe(plan.from);
    expect(graph.nodes.filter((n) => n.kind === 'target').map((n) => n.id)).toEqual([plan.to]);
    expect(graph.nodes.filter((n) => n.kind === 'stop').length).toBe(plan.steps.length - 1);
  });

  it('draws blocked ways from the plan', async () => {
    const plan = await planOf({
      profile: 'securetransport',
      from: '5.4 GA',
      fact: ['database.type=oracle', 'database.version=12.1', 'platform.id=linux-x86-64'],
    });
    const blocked: Plan = {
      ...plan,
      steps: [],
      blockedBy: [{ from: plan.from, reason: 'the vendor supports no upgrade from it' }],
    };

    const { graph } = reportModel(blocked);

    expect(graph.edges).toContainEqual(
      expect.objectContaining({ from: plan.from, to: plan.to, kind: 'blocked' }),
    );
  });

  it("times the window from the plan's estimate: the downtime phases add up to its downtime", async () => {
    const plan = await skiff();

    const { timeline } = reportModel(plan);

    const down = timeline.phases.filter((p) => p.downtime).reduce((n, p) => n + p.p50, 0);
    expect(timeline.source).toBe('plan');
    expect(down).toBe(plan.estimate.downtimeSeconds);
    expect(timeline.phases.map((p) => p.phase)).toEqual(
      expect.arrayContaining(['stop', 'switch', 'migrate', 'start', 'probe', 'validate']),
    );
    expect(timeline.phases.at(-1)).toMatchObject({
      phase: 'validate',
      p50: plan.estimate.validationSeconds,
      downtime: false,
    });
    for (const p of timeline.phases) expect(p.p90).toBe(p.p50);
  });

  it('takes a learned estimate when given: its phases, p50 and p90, and where it learned them', async () => {
    const plan = await skiff();

    const { timeline, backout } = reportModel(plan, { learned });

    expect(timeline.source).toBe('learned');
    expect(timeline.phases.map((p) => [p.phase, p.p50, p.p90])).toEqual(
      learned.phases.map((p) => [p.phase, p.p50, p.p90]),
    );
    expect(timeline.downtime).toEqual(learned.downtime);
    expect(timeline.basis).toContain('2 measured runs (test, preprod)');
    expect(timeline.illustrative).toBe(false);
    expect(backout.rollbackSeconds).toBe(learned.rollback.p50);
  });

  it('says how to get windows when it has no traffic, and shows them when it has', async () => {
    const plan = await skiff();

    const without = reportModel(plan, { install: '/opt/skiff' }).windows;
    const withThem = reportModel(plan, { traffic: traffic(), windows }).windows;

    expect(without.heat).toBeUndefined();
    expect(without.howTo).toContain('uplift window --install /opt/skiff');
    expect(withThem.howTo).toBeUndefined();
    expect(withThem.heat).toHaveLength(SLOTS_PER_WEEK);
    // Averages per week: the profile summed four weeks.
    expect(withThem.heat?.[8 * 4]).toBe(40);
    expect(withThem.windows?.map((w) => w.rank)).toEqual([1, 2]);
    // In the window's own zone, across the change to summer time: 01:00 CET to 04:00 CEST.
    expect(withThem.windows?.[1]?.when).toBe('Sun 2026-03-29 01:00 – 04:00 (Europe/Paris)');
    expect(withThem.windows?.[0]?.when).toBe('Sun 2026-03-22 02:00 – 04:00 (UTC)');
  });

  it('shows check results when given, and how to get them when not', async () => {
    const plan = await skiff();
    const checks: ReportExtras['checks'] = [
      { id: 'disk-space', result: { status: 'pass', message: '12.0 GiB free, 3.1 GiB needed' } },
      {
        id: 'owner',
        result: { status: 'fail', message: 'run as root', remediation: 'Run as skiff.' },
      },
    ];

    const given = reportModel(plan, { checks }).checks;
    const none = reportModel(plan).checks;

    expect(given).toMatchObject({
      given: true,
      rows: [
        { id: 'disk-space', status: 'pass' },
        { id: 'owner', status: 'fail', remediation: 'Run as skiff.' },
      ],
    });
    expect(given.howTo).toBeUndefined();
    expect(none.given).toBe(false);
    expect(none.howTo).toContain('uplift check --install');
    expect(none.rows.map((r) => r.id)).toEqual([
      ...new Set(plan.tasks.flatMap((t) => (t.check ? [t.check] : []))),
    ]);
    for (const r of none.rows) expect(r.status).toBe('not run');
  });
});

/** The headings of each rendering: `## X` in Markdown, h2/h3 in HTML. */
const mdHeadings = (md: string) =>
  md.split('\n').flatMap((l) => (/^## (.*)$/.exec(l)?.[1] ? [l.slice(3)] : []));
const htmlHeadings = (html: string) =>
  [...html.matchAll(/<h[23][^>]*>([^<]*)<\/h[23]>/g)].map((m) => m[1] as string);
/** The HTML of the table row or list item that holds `needle`. */
const htmlItem = (html: string, needle: string) =>
  html.split(/<(?:tr|li)[ >]/).filter((part) => part.includes(needle));

describe('the HTML and the Markdown report show the same content', () => {
  it.each`
    name                             | extras
    ${'securetransport, no extras'}  | ${{}}
    ${'securetransport, all extras'} | ${{ learned, traffic: traffic(), windows, checks: [{ id: 'owner', result: { status: 'pass', message: 'ok' } }] }}
  `('$name: the same sections and the same illustrative marks', async ({ extras }) => {
    const plan = await securetransport();
    const model = reportModel(plan, extras);

    const md = renderReportMarkdown(model);
    const html = renderReportHtml(model);

    expect(new Set(htmlHeadings(html))).toEqual(new Set(['Verdict', ...mdHeadings(md)]));
    expect(model.banner).toBeDefined();
    expect(md).toContain(`> **${model.banner}**`);
    expect(html).toContain('id="illustrative-banner"');
    // Each release-note row, step and incompatibility is marked in both or in neither.
    for (const n of model.notes.entries) {
      const mdRow = md.split('\n').find((l) => l.includes(`| \`${n.id}\``)) ?? '';
      const htmlRows = htmlItem(html, `<code>${n.id}</code>`);
      expect(htmlRows.length).toBeGreaterThan(0);
      expect(mdRow.includes('*(illustrative)*')).toBe(n.illustrative);
      for (const row of htmlRows) expect(row.includes('class="ill"')).toBe(n.illustrative);
    }
    for (const s of model.steps) {
      const mdRow = md.split('\n').find((l) => l.startsWith(`| ${s.index} | `)) ?? '';
      expect(mdRow.split('*(illustrative)*')[0]?.includes(s.title)).toBe(true);
      expect(mdRow.includes(`${s.title} *(illustrative)*`)).toBe(s.illustrative);
    }
    const marked = (s: string, mark: string) => s.split(mark).length - 1;
    const items = [
      ...model.steps.map((s) => s.illustrative),
      ...model.steps.map((s) => s.packIllustrative),
      ...model.incompatibilities.map((i) => i.illustrative),
      ...model.tasks.map((t) => t.illustrative),
      ...model.verdict.reasons.map((r) => r.illustrative),
      ...model.notes.entries.map((n) => n.illustrative),
    ].filter(Boolean).length;
    // Besides those items: one per time row and step downtime in both; the timeline marks each
    // cell in Markdown, its basis once in HTML.
    const timeMarks = model.time.illustrative ? model.time.rows.length + model.steps.length : 0;
    expect(marked(html, 'class="ill"')).toBe(
      items +
        timeMarks +
        (model.timeline.illustrative ? 1 : 0) +
        (model.title.illustrativeTarget ? 1 : 0),
    );
    expect(marked(md, '*(illustrative)*') + (model.title.illustrativeTarget ? 1 : 0)).toBe(
      items +
        timeMarks +
        (model.timeline.illustrative ? (model.timeline.phases.length + 2) * 2 : 0) +
        model.graph.nodes.filter((n) => n.kind === 'stop' && n.illustrative).length,
    );
  });

  it('a fully sourced plan has no banner and no mark in either', async () => {
    const plan = await skiff();
    const sourced: Plan = {
      ...plan,
      provenance: undefined,
      notes: {
        ...plan.notes,
        entries: plan.notes.entries.map((e) => ({ ...e, illustrative: undefined })),
      },
    };

    const model = reportModel(sourced);

    expect(renderReportMarkdown(model)).not.toContain('illustrative');
    expect(renderReportHtml(model)).not.toMatch(/illustrative/i);
  });

  it('is one self-contained document: no script, no URL, under 1 MB', async () => {
    const model = reportModel(await securetransport(), { learned, traffic: traffic(), windows });

    const html = renderReportHtml(model);

    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html).not.toMatch(/<script|https?:\/\/|<link |<img /i);
    expect(Buffer.byteLength(html)).toBeLessThan(1024 * 1024);
    expect(html).toContain('class="week-heat-map"');
    // One outline per window: neither crosses midnight UTC.
    expect(html.match(/class="window"/g)).toHaveLength(2);
  });
});
