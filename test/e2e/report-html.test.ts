import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LearnedEstimate } from '../../src/estimate/types.ts';
import type { Plan } from '../../src/plan/index.ts';
import { renderPlanHtml } from '../../src/report/index.ts';
import { SLOTS_PER_WEEK, type TrafficProfile } from '../../src/traffic/types.ts';
import type { WindowProposal } from '../../src/window/types.ts';
import { hasChromium, launchChromium, seriousViolations } from '../util/chromium.ts';
import { decodePng, hasColourNear } from '../util/png.ts';
import { repoRoot, runCliProcess } from '../util/run-cli.ts';

/**
 * The change-board report (`uplift plan --format html`) in a real headless Chromium: the sample's
 * plan made by the built CLI, a long illustrative securetransport plan, and a report given
 * traffic, windows and a learned estimate. Each opens from file:// with no console error and no
 * request but itself, shows its sections, draws the chosen path, prints to A4 and Letter without
 * cutting anything, and has no serious or critical accessibility violation (axe-core).
 */
const ci = process.env.CI === 'true' || process.env.CI === '1';
const artifacts = join(repoRoot, 'test-artifacts/report-html');

if (!hasChromium && !ci)
  console.warn('report-html: /usr/bin/chromium is missing, skipped (apt-get install chromium)');

describe.runIf(!hasChromium && ci)('the HTML report in Chromium, under CI', () => {
  it('needs /usr/bin/chromium (.ci/run installs Debian chromium)', () => {
    expect.fail('/usr/bin/chromium is missing: the browser tests cannot run under CI=true');
  });
});

/** A week of traffic: busy 08:00-18:00 UTC, quiet at night, nothing on Sunday 02:00-04:00. */
function traffic(): TrafficProfile {
  const slots = Array.from({ length: SLOTS_PER_WEEK }, (_, i) => {
    const hour = Math.floor(i / 4) % 24;
    const idle = Math.floor(i / 96) === 6 && hour >= 2 && hour < 4;
    const n = idle ? 0 : hour >= 8 && hour < 18 ? 160 : 24;
    return { transfers: n, bytes: n * 4096, accounts: Math.min(n, 20) };
  });
  return {
    slots,
    weeksCovered: slots.map(() => 4),
    from: Date.UTC(2026, 10, 2),
    to: Date.UTC(2026, 10, 29, 23),
    records: slots.reduce((n, s) => n + s.transfers, 0),
    skipped: { count: 0, examples: [] },
    sources: ['/var/log/xferlog'],
  };
}
const windows: WindowProposal[] = [
  {
    start: Date.UTC(2026, 11, 13, 2),
    end: Date.UTC(2026, 11, 13, 4),
    zone: 'UTC',
    expectedTransfers: 0,
    expectedBytes: 0,
    expectedAccounts: 0,
    rank: 1,
    reasons: ['No transfer in any of the 4 weeks of the log.'],
  },
  {
    start: Date.UTC(2026, 11, 12, 22),
    end: Date.UTC(2026, 11, 13, 1),
    zone: 'Europe/Paris',
    expectedTransfers: 18,
    expectedBytes: 73728,
    expectedAccounts: 12,
    rank: 2,
    reasons: ['Night traffic only.', 'Crosses midnight UTC.'],
  },
];
const learned: LearnedEstimate = {
  hops: [{ from: '5.4 Patch 35', to: '5.5 GA' }],
  downtime: { p50: 1500, p90: 2100 },
  total: { p50: 3300, p90: 4500 },
  validate: { p50: 1800, p90: 2400 },
  rollback: { p50: 900, p90: 1300 },
  phases: [
    { phase: 'stop', p50: 120, p90: 180 },
    { phase: 'switch', p50: 600, p90: 840 },
    { phase: 'migrate', p50: 480, p90: 720 },
    { phase: 'start', p50: 240, p90: 300 },
    { phase: 'probe', p50: 60, p90: 60 },
    { phase: 'validate', p50: 1800, p90: 2400 },
  ],
  basis: { kind: 'measured', runs: 3, scaledBy: 1.8, from: ['test', 'preprod'] },
};

/*
 * What runs in the page, as source text: the project compiles without the DOM's types (lib
 * ES2023), so these scripts are strings for page.evaluate, with the shapes they return below.
 */
interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface Probes {
  edges: { x: number; y: number }[];
  target?: Box;
  installed?: Box;
  banner?: Box;
  bars: { phase: string; x: number; y: number; w: number }[];
  windows: Box[];
}
/** Page coordinates of: a point 30 % along each chosen hop, the target and installed nodes, the banner, the timeline's bars. */
const probeScript = `(() => {
  const abs = (x, y) => ({ x: x + window.scrollX, y: y + window.scrollY });
  const edges = [...document.querySelectorAll('svg.version-graph g.edge-chosen > path')].map((p) => {
    const at = p.getPointAtLength(p.getTotalLength() * 0.3);
    const m = p.getScreenCTM();
    return abs(m.a * at.x + m.c * at.y + m.e, m.b * at.x + m.d * at.y + m.f);
  });
  const box = (sel) => {
    const b = document.querySelector(sel)?.getBoundingClientRect();
    return b ? { ...abs(b.left, b.top), w: b.width, h: b.height } : undefined;
  };
  const bars = [...document.querySelectorAll('svg.timeline g.phase > rect:last-of-type')].map((rect) => {
    const b = rect.getBoundingClientRect();
    return { phase: rect.parentElement.getAttribute('data-phase'), ...abs(b.left + b.width / 2, b.top + b.height / 2), w: b.width };
  });
  return {
    edges,
    target: box('svg.version-graph g.node-target rect'),
    installed: box('svg.version-graph g.node-installed rect'),
    banner: box('#illustrative-banner'),
    bars,
    windows: [...document.querySelectorAll('svg.week-heat-map g.window rect')].map((rect) => {
      const b = rect.getBoundingClientRect();
      return { ...abs(b.left, b.top), w: b.width, h: b.height };
    }),
  };
})()`;
interface Layout {
  over: string[];
  scroll: number;
  width: number;
  height: number;
  figures: { height: number; breaks: string }[];
}
/** Elements of the report outside the page's width, the figures' heights and break rule, the page's height. */
const layoutScript = `(() => {
  const width = document.documentElement.clientWidth;
  const over = [...document.querySelectorAll('main *')]
    .filter((e) => {
      const b = e.getBoundingClientRect();
      return b.width > 0 && (b.right > width + 0.5 || b.left < -0.5);
    })
    .map((e) => e.tagName.toLowerCase() + '.' + (e.getAttribute('class') ?? ''));
  const figures = [...document.querySelectorAll('figure')].map((f) => ({
    height: f.getBoundingClientRect().height,
    breaks: getComputedStyle(f).breakInside,
  }));
  return { over, scroll: document.documentElement.scrollWidth, width, figures, height: document.documentElement.scrollHeight };
})()`;
interface Report {
  name: string;
  file: string;
  plan: Plan;
  /** Given a traffic profile and windows: the heat map instead of its how-to. */
  withWindows: boolean;
}

describe.skipIf(!hasChromium)('the HTML report in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uplift-report-html-'));
  const reports: Report[] = [];
  let context: BrowserContext;
  let close: () => Promise<void>;

  beforeAll(async () => {
    rmSync(artifacts, { recursive: true, force: true });
    mkdirSync(artifacts, { recursive: true });
    const sample = runCliProcess(['sample', '--dir', dir, '--json']);
    if (sample.code !== 0) throw new Error(`uplift sample failed: ${sample.stderr}`);
    const install = join(dir, 'install');
    const plan = runCliProcess([
      'plan',
      '--install',
      install,
      '--to',
      'latest',
      '--json',
      '--report',
      join(dir, 'sample.html'),
      '--report',
      join(dir, 'sample.md'),
    ]);
    const html = runCliProcess([
      'plan',
      '--install',
      install,
      '--to',
      'latest',
      '--format',
      'html',
      '--out',
      join(dir, 'sample-out.html'),
    ]);
    const st = ['plan', '--profile', 'securetransport', '--from', '5.2.1 SP4', '--to', '5.5 GA'];
    const stPlan = runCliProcess([...st, '--fact', 'platform.id=linux-x86-64', '--json']);
    const stHtml = runCliProcess([
      ...st,
      '--fact',
      'platform.id=linux-x86-64',
      '--format',
      'html',
      '--out',
      join(dir, 'securetransport.html'),
    ]);
    for (const r of [plan, html, stPlan, stHtml])
      if (r.code !== 0) throw new Error(`uplift plan failed (${r.code}): ${r.stderr}`);
    const st55 = JSON.parse(stPlan.stdout) as Plan;
    writeFileSync(
      join(dir, 'with-windows.html'),
      await renderPlanHtml(st55, { traffic: traffic(), windows, learned, install: '/opt/st' }),
    );
    reports.push(
      {
        name: 'sample',
        file: join(dir, 'sample.html'),
        plan: JSON.parse(plan.stdout),
        withWindows: false,
      },
      {
        name: 'securetransport',
        file: join(dir, 'securetransport.html'),
        plan: st55,
        withWindows: false,
      },
      { name: 'with-windows', file: join(dir, 'with-windows.html'), plan: st55, withWindows: true },
    );
    ({ context, close } = await launchChromium());
  }, 300_000);

  afterAll(async () => {
    await close?.();
    runCliProcess(['sample', '--dir', dir, '--stop']);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a report and records what the page says went wrong and what it asked the network for. */
  async function open(file: string) {
    const page = await context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    return { page, errors, requests };
  }

  it('writes the same report with --format html --out as with --report FILE.html, under 1 MB', () => {
    const viaReport = readFileSync(join(dir, 'sample.html'), 'utf8');
    const viaOut = readFileSync(join(dir, 'sample-out.html'), 'utf8');

    for (const html of [viaReport, viaOut]) {
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).not.toMatch(/<script|https?:\/\/|<link |<img /i);
    }
    // The same sections; the facts of a running sample (its transfer count) may move between runs.
    const ids = (html: string) =>
      [...html.matchAll(/<section[^>]* id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids(viaOut)).toEqual(ids(viaReport));
    expect(readFileSync(join(dir, 'sample.md'), 'utf8')).toContain('## Back-out plan');
    for (const r of reports) expect(statSync(r.file).size).toBeLessThan(1024 * 1024);
  });

  it('shows the results of uplift check --json given with --checks', async () => {
    const install = join(dir, 'install');
    const check = runCliProcess(['check', '--install', install, '--json']);
    expect([0, 3], check.stderr).toContain(check.code);
    writeFileSync(join(dir, 'checks.json'), check.stdout);
    const results = (JSON.parse(check.stdout) as { results: { id: string; status: string }[] })
      .results;

    const r = runCliProcess([
      ...['plan', '--install', install, '--to', 'latest', '--format', 'html'],
      ...['--checks', join(dir, 'checks.json'), '--out', join(dir, 'checks.html')],
    ]);

    expect(r.code, r.stderr).toBe(0);
    const { page, errors } = await open(join(dir, 'checks.html'));
    const cells = await page.locator('#checks table tbody tr td:nth-child(-n+2)').allTextContents();
    const rows = cells.flatMap((c, k) => (k % 2 === 0 ? [[c, cells[k + 1]]] : []));
    expect(rows).toEqual(results.map((x) => [x.id, x.status]));
    expect(await page.locator('#checks .howto').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  describe('should error and not write if', () => {
    it.each`
      what                                   | edit
      ${'the checks are of another upgrade'} | ${(c: { from: string }) => ({ ...c, from: '1.0 GA' })}
      ${'a result has no known status'}      | ${(c: { results: object[] }) => ({ ...c, results: [{ id: 'owner', status: 'ok', message: 'm' }] })}
      ${'the file is not JSON'}              | ${() => 'not json'}
    `('$what', ({ edit }) => {
      const good = JSON.parse(readFileSync(join(dir, 'checks.json'), 'utf8'));
      const file = join(dir, 'bad-checks.json');
      const out = join(dir, 'not-written.html');
      const edited = edit(good);
      writeFileSync(file, typeof edited === 'string' ? edited : JSON.stringify(edited));

      const r = runCliProcess([
        ...['plan', '--install', join(dir, 'install'), '--to', 'latest', '--format', 'html'],
        ...['--checks', file, '--out', out, '--json'],
      ]);

      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).error).toMatchObject({
        code: 'UPLIFT_REPORT_CHECKS_INVALID',
        location: { file },
      });
      expect(() => statSync(out)).toThrow();
    });
  });

  it.each(['sample', 'securetransport', 'with-windows'])(
    '%s: opens with no console error and no request but itself; every section is there',
    async (name) => {
      const r = reports.find((x) => x.name === name) as Report;

      const { page, errors, requests } = await open(r.file);

      expect(errors).toEqual([]);
      expect(requests).toEqual([pathToFileURL(r.file).href]);
      await expect(page.locator('#verdict .verdict').textContent()).resolves.toContain('Verdict:');
      expect(await page.locator('#verdict .verdict').getAttribute('data-verdict')).toBe(
        r.plan.verdict,
      );
      // The path: one thick numbered edge per step, from the installed version to the target.
      const chosen = page.locator('svg.version-graph g.edge-chosen');
      expect(await chosen.count()).toBe(r.plan.steps.length);
      expect(await chosen.first().getAttribute('data-from')).toBe(r.plan.from);
      expect(await chosen.last().getAttribute('data-to')).toBe(r.plan.to);
      expect(
        await page.locator('svg.version-graph g.node-target').getAttribute('data-version'),
      ).toBe(r.plan.to);
      expect(await page.locator('svg.timeline g.phase').count()).toBeGreaterThanOrEqual(6);
      expect(await page.locator('svg.timeline .point-of-no-return').count()).toBe(1);
      if (r.withWindows) {
        expect(await page.locator('svg.week-heat-map').count()).toBe(1);
        // Rank 2 crosses midnight UTC: two outlines; rank 1 one.
        expect(await page.locator('svg.week-heat-map g.window').count()).toBe(3);
        expect(await page.locator('#windows-howto').count()).toBe(0);
        await expect(page.locator('#timeline').textContent()).resolves.toContain('3 measured runs');
      } else {
        expect(await page.locator('svg.week-heat-map').count()).toBe(0);
        await expect(page.locator('#windows-howto').textContent()).resolves.toContain(
          'uplift window --install',
        );
      }
      await expect(page.locator('#point-of-no-return').textContent()).resolves.toContain(
        'Point of no return',
      );
      const illustrative =
        (r.plan.provenance?.estimate.length ?? 0) + (r.plan.provenance?.path.length ?? 0) > 0;
      expect(await page.locator('#illustrative-banner').count()).toBe(illustrative ? 1 : 0);
      if (illustrative)
        await expect(page.locator('#illustrative-banner').textContent()).resolves.toMatch(
          /^ILLUSTRATIVE:/,
        );
      await page.close();
    },
  );

  /*
   * The screenshot test asserts what the pixels must show rather than comparing with a committed
   * image: fonts and their hinting differ between machines even with the same chromium, and move
   * every line of text by a pixel, so an image diff either fails on them or tolerates so much it
   * would not see a lost path. What must hold anywhere: the page is no wider than the window, the
   * chosen hops and the target are drawn in the path colour where the layout put them, the
   * timeline's bars are where its phases are, the banner has its colour, and the image is not
   * blank. The PNG is kept under test-artifacts/ for a person to look at.
   */
  it.each(['sample', 'securetransport', 'with-windows'])(
    '%s: the screenshot shows the path, the timeline and the banner where the layout puts them',
    async (name) => {
      const r = reports.find((x) => x.name === name) as Report;
      const { page } = await open(r.file);

      const png = await page.screenshot({ fullPage: true, animations: 'disabled' });
      writeFileSync(join(artifacts, `${name}.png`), png);
      const img = decodePng(png);
      const probes = await page.evaluate<Probes>(probeScript);

      expect(img.width).toBe(1000);
      expect(probes.edges.length).toBe(r.plan.steps.length);
      for (const e of probes.edges)
        expect(hasColourNear(img, e.x, e.y, '#0b5cad'), `a chosen hop at ${e.x},${e.y}`).toBe(true);
      const t = probes.target as { x: number; y: number; w: number; h: number };
      expect(
        hasColourNear(img, t.x + 6, t.y + t.h / 2, '#0b5cad', { radius: 1 }),
        'the target node',
      ).toBe(true);
      const i = probes.installed as { x: number; y: number; h: number };
      expect(
        hasColourNear(img, i.x + 6, i.y + i.h / 2, '#eef4fb', { radius: 1, tolerance: 8 }),
        'the installed node',
      ).toBe(true);
      for (const b of probes.bars.filter((x) => x.w >= 6))
        expect(
          hasColourNear(img, b.x, b.y, b.phase === 'validate' ? '#1a6b34' : '#0b5cad', {
            radius: 1,
          }),
          `the timeline bar of ${b.phase}`,
        ).toBe(true);
      if (probes.banner)
        expect(
          hasColourNear(img, probes.banner.x + 5, probes.banner.y + 5, '#f4eefb', {
            radius: 1,
            tolerance: 8,
          }),
          'the illustrative banner',
        ).toBe(true);
      // Each window's outline, on its left edge, over the heat map.
      expect(probes.windows.length).toBe(r.withWindows ? 3 : 0);
      for (const w of probes.windows)
        expect(
          hasColourNear(img, w.x + 1, w.y + w.h / 2, '#d97706', { radius: 1, tolerance: 40 }),
          `a window outline at ${w.x},${w.y}`,
        ).toBe(true);
      const colours = new Set<number>();
      for (let k = 0; k < img.rgba.length; k += 4 * 97)
        colours.add(
          ((img.rgba[k] as number) << 16) |
            ((img.rgba[k + 1] as number) << 8) |
            (img.rgba[k + 2] as number),
        );
      expect(colours.size).toBeGreaterThan(20);
      await page.close();
    },
  );

  /** The printable box of a page with the report's @page margins (12 mm sides, 14 mm top and bottom), in CSS px. */
  const paper = {
    A4: { width: ((210 - 24) * 96) / 25.4, height: ((297 - 28) * 96) / 25.4 },
    Letter: { width: 8.5 * 96 - (24 * 96) / 25.4, height: 11 * 96 - (28 * 96) / 25.4 },
  } as const;

  it.each(['sample', 'securetransport', 'with-windows'])(
    '%s: prints to A4 and Letter with nothing cut',
    async (name) => {
      const r = reports.find((x) => x.name === name) as Report;
      const { page, errors } = await open(r.file);

      for (const format of ['A4', 'Letter'] as const) {
        const box = paper[format];
        // The print layout at the printable width of the paper: nothing may stick out of it, and
        // no figure may be taller than a page (figures do not break, so a taller one would be cut).
        await page.setViewportSize({
          width: Math.floor(box.width),
          height: Math.floor(box.height),
        });
        await page.emulateMedia({ media: 'print' });
        const layout = await page.evaluate<Layout>(layoutScript);
        const pdf = await page.pdf({ format, printBackground: true, preferCSSPageSize: false });
        writeFileSync(join(artifacts, `${name}-${format}.pdf`), pdf);

        expect(layout.over, `${format}: wider than the printable width`).toEqual([]);
        expect(layout.scroll).toBeLessThanOrEqual(layout.width);
        for (const f of layout.figures) {
          expect(f.breaks).toBe('avoid');
          expect(f.height).toBeLessThanOrEqual(box.height);
        }
        expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
        expect(pdf.subarray(-8).toString('latin1')).toContain('%%EOF');
        const pages = pdf.toString('latin1').match(/\/Type\s*\/Page(?!s)\b/g)?.length ?? 0;
        // At least as many pages as the content fills, at most a handful more for the breaks.
        expect(pages).toBeGreaterThanOrEqual(Math.ceil(layout.height / box.height));
        expect(pages).toBeLessThanOrEqual(Math.ceil(layout.height / box.height) + 4);
      }
      expect(errors).toEqual([]);
      await page.close();
    },
  );

  it.each(['sample', 'securetransport', 'with-windows'])(
    '%s: axe-core finds no serious or critical accessibility violation',
    async (name) => {
      const r = reports.find((x) => x.name === name) as Report;
      const { page } = await open(r.file);

      // Injected by the test only: the report itself carries no script.
      const { bad, checked } = await seriousViolations(page);

      expect(bad).toEqual([]);
      expect(checked).toBeGreaterThan(0);
      await page.close();
    },
  );
});
