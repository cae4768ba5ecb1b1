import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createServeToken } from '../src/serve/index.ts';
import { openStateStore } from '../src/state/index.ts';
import { launchChromium } from '../test/util/chromium.ts';
import { startServeProcess } from '../test/util/dashboard.ts';
import { snapshotDist } from './measure.ts';
import { median, percentile, round } from './stats.ts';

/**
 * The dashboard's Fleet view at 1,000 nodes (issue 15): time to first render in Debian's Chromium,
 * beside the time curl takes to load the same JSON from the same server in the same run.
 *
 * A generated topology (3 environments, 20 deployments, `nodes` nodes; local addresses, never
 * contacted: the Fleet view reads the store's view; each node still costs its reads of the last
 * facts and check) and a SQLite state with one token, served by the built CLI (`uplift serve`, a real process on 127.0.0.1). First render = the
 * `uplift:fleet-painted` performance mark the view sets once the table is painted after the fleet
 * JSON arrived, in ms from the start of the navigation (so it includes loading index.html, the
 * script, signing-in check, GET /api/fleet and the runs, and React's render). Each run is a fresh
 * page (the browser cache is warm after the first, as it is for an operator).
 */
export interface DashboardFigures {
  nodes: number;
  runs: number;
  /** `curl` GET /api/fleet with a bearer token: total time, ms. */
  apiCurlMs: { median: number; p95: number };
  fleetJsonBytes: number;
  /** Navigation start → table painted, ms. */
  firstRenderMs: { median: number; p95: number };
  /** Table rows in the DOM at first render (windowing: a screenful, not every node). */
  renderedRows: number;
  /** What the browser downloads: the dashboard's script and stylesheet. */
  assetBytes: number;
  /** The machine's 1-minute load average when the runs started (others' work shares the cores). */
  loadAverage: number;
}

export async function benchDashboard(o: {
  root: string;
  nodes?: number;
  runs?: number;
  log: (line: string) => void;
}): Promise<DashboardFigures> {
  const nodes = o.nodes ?? 1000;
  const runs = o.runs ?? 11;
  const dir = mkdtempSync(join(tmpdir(), 'uplift-bench-dashboard-'));
  const cli = snapshotDist(o.root, dir);
  const topology = join(dir, 'uplift.yaml');
  writeFileSync(topology, topologyOf(nodes, dir));
  const state = join(dir, 'state.db');
  const store = await openStateStore({ file: state, env: {} });
  const { token } = await createServeToken(store, 'bench', 'viewer');
  await store.close();

  const server = await startServeProcess(cli, ['--state', state, '--topology', topology]);
  const browser = await launchChromium({ width: 1280, height: 900 });
  try {
    const url = `${server.url}/api/fleet`;
    const curl = () => {
      const r = spawnSync(
        'curl',
        [
          '-s',
          '-o',
          join(dir, 'fleet.json'),
          '-w',
          '%{time_total} %{size_download} %{http_code}',
          '-H',
          `Authorization: Bearer ${token}`,
          url,
        ],
        { encoding: 'utf8' },
      );
      const [seconds, bytes, status] = r.stdout.trim().split(' ');
      if (r.status !== 0 || status !== '200')
        throw new Error(`curl ${url}: ${r.status} ${r.stdout} ${r.stderr}`);
      return { ms: Number(seconds) * 1000, bytes: Number(bytes) };
    };
    curl(); // the first request opens the store and reads the topology: not what is compared
    const page0 = await browser.context.newPage();
    await page0.goto(`${server.url}/fleet`);
    await page0.getByLabel('Token').fill(token);
    await page0.getByRole('button', { name: 'Sign in' }).click();
    await page0.getByTestId('fleet-table').waitFor();
    await page0.close();

    const load = loadavg()[0] ?? 0;
    const api: number[] = [];
    const render: number[] = [];
    let bytes = 0;
    let rows = 0;
    for (let k = 0; k < runs; k++) {
      const c = curl();
      api.push(c.ms);
      bytes = c.bytes;
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/fleet`);
      // Polled through the DevTools protocol: waitForFunction evaluates with eval(), which the
      // page's CSP (script-src 'self', no 'unsafe-eval') refuses, as it should.
      const m = await painted(page);
      if (m.rows !== nodes) throw new Error(`the table shows ${m.rows} nodes, not ${nodes}`);
      render.push(m.at);
      rows = m.dom;
      await page.close();
      o.log(
        `dashboard run ${k + 1}/${runs}: curl ${round(c.ms)} ms, first render ${round(m.at)} ms`,
      );
    }
    const assets = join(cli, '../../dashboard/assets');
    return {
      nodes,
      runs,
      apiCurlMs: { median: round(median(api)), p95: round(percentile(api, 95)) },
      fleetJsonBytes: bytes,
      firstRenderMs: { median: round(median(render)), p95: round(percentile(render, 95)) },
      renderedRows: rows,
      assetBytes: readdirSync(assets).reduce((a, f) => a + statSync(join(assets, f)).size, 0),
      loadAverage: round(load),
    };
  } finally {
    await browser.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function painted(page: Page): Promise<{ at: number; rows: number; dom: number }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = await page.evaluate<{ at: number; rows: number; dom: number } | null>(
      `(() => { const m = performance.getEntriesByName('uplift:fleet-painted')[0]; return m ? { at: m.startTime, rows: m.detail.rows, dom: document.querySelectorAll('[data-testid="fleet-table"] tbody tr:not(.spacer)').length } : null; })()`,
    );
    if (m !== null) return m;
    if (Date.now() > deadline) throw new Error('the Fleet view did not paint its table in 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** 3 environments (10 %, 30 %, 60 % of the nodes), 20 deployments, local addresses under `dir`. */
function topologyOf(nodes: number, dir: string): string {
  const envs = [
    { name: 'test', share: 0.1, deployments: 2 },
    { name: 'preprod', share: 0.3, deployments: 6 },
    { name: 'prod', share: 0.6, deployments: 12 },
  ];
  let made = 0;
  const lines = ['topology: 1', 'environments:'];
  envs.forEach((e, k) => {
    const count = k === envs.length - 1 ? nodes - made : Math.round(nodes * e.share);
    lines.push(`  - name: ${e.name}`, '    deployments:');
    for (let d = 0; d < e.deployments; d++) {
      const per = Math.floor(count / e.deployments) + (d < count % e.deployments ? 1 : 0);
      lines.push(
        `      - name: ${e.name}-d${d + 1}`,
        '        type: standard-cluster',
        '        profile: skiff',
        '        to: 5.3.0 Patch 1',
        '        nodes:',
      );
      for (let n = 0; n < per; n++)
        lines.push(
          `          - name: n${made + n + 1}`,
          `            at: ${join(dir, 'nodes', `n${made + n + 1}`)}`,
        );
      made += per;
    }
  });
  return `${lines.join('\n')}\n`;
}

export function formatDashboard(f: DashboardFigures, goalMs: number): string {
  return [
    `Fleet view, ${f.nodes} nodes, ${f.runs} runs (Chromium, loopback, load average ${f.loadAverage}):`,
    `  GET /api/fleet with curl:   median ${f.apiCurlMs.median} ms, p95 ${f.apiCurlMs.p95} ms (${Math.round(f.fleetJsonBytes / 1024)} KiB)`,
    `  first render of the table:  median ${f.firstRenderMs.median} ms, p95 ${f.firstRenderMs.p95} ms (goal < ${goalMs} ms) ${f.firstRenderMs.p95 < goalMs ? 'ok' : 'MISSED'}`,
    `  rows in the DOM: ${f.renderedRows} of ${f.nodes}; script + stylesheet ${Math.round(f.assetBytes / 1024)} KiB`,
  ].join('\n');
}
