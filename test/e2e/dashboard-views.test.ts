import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedStateStore, openStateStore } from '../../src/state/index.ts';
import { uplift } from '../util/apply-skiff.ts';
import { hasChromium, launchChromium, seriousViolations } from '../util/chromium.ts';
import {
  makeSkiffCluster,
  nodeVersion,
  SKIFF_ONE_HOP,
  type SkiffCluster,
  writeTopology,
} from '../util/cluster-fixture.ts';
import {
  type ServeProcess,
  screenshot,
  startServeProcess,
  watchErrors,
} from '../util/dashboard.ts';
import { rolloutArgs, rolloutEnd, runOnPrivateCli } from '../util/rollout-e2e.ts';

/**
 * The dashboard in Debian's Chromium against a real `uplift serve` process, on a real SQLite
 * state after a real rollout of two sample installations: every view renders without a console
 * error and without a serious accessibility violation, state changes show within a second, a
 * viewer sees no action and is refused (and audited) by the API, a write without the CSRF token
 * is refused. Screenshots of every view go to test-artifacts/dashboard/.
 */
const ci = process.env.CI === 'true' || process.env.CI === '1';
if (!hasChromium && !ci)
  console.warn('dashboard-views: /usr/bin/chromium is missing, skipped (apt-get install chromium)');

describe.runIf(!hasChromium && ci)('the dashboard in Chromium, under CI', () => {
  it('needs /usr/bin/chromium (.ci/run installs Debian chromium)', () => {
    expect.fail('/usr/bin/chromium is missing: the browser tests cannot run under CI=true');
  });
});

const { from, to } = SKIFF_ONE_HOP;

/** The errors other than the expected ones; each expected one must be there. */
function unexpected(errors: string[], ...expected: RegExp[]): string[] {
  for (const e of expected)
    expect(
      errors.some((x) => e.test(x)),
      String(e),
    ).toBe(true);
  return errors.filter((x) => !expected.some((e) => e.test(x)));
}

describe.skipIf(!hasChromium)('the dashboard in Chromium', () => {
  const cli = runOnPrivateCli();
  let cluster: SkiffCluster;
  let prod: SkiffCluster | undefined;
  let topology: string;
  let state: string;
  let server: ServeProcess;
  let store: OpenedStateStore;
  let browser: { context: BrowserContext; close: () => Promise<void> };
  let runId: string;
  const tokens: Record<'olga' | 'vera', string> = { olga: '', vera: '' };

  beforeAll(async () => {
    const made = await Promise.all([
      makeSkiffCluster({ nodes: 2, from, to, running: true }),
      makeSkiffCluster({ nodes: 2, from, to, running: true }),
    ]);
    cluster = made[0];
    prod = made[1];
    topology = await writeTopology(join(cluster.root, 'uplift.yaml'), [
      {
        name: 'test',
        deployments: [cluster.deployment({ name: 'cluster', type: 'standard-cluster' })],
      },
      {
        name: 'prod',
        deployments: [made[1].deployment({ name: 'cluster', type: 'standard-cluster' })],
      },
    ]);
    state = join(cluster.root, 'state.db');
    for (const [name, role] of [
      ['olga', 'operator'],
      ['vera', 'viewer'],
    ] as const) {
      const r = uplift([
        'serve',
        'token',
        'create',
        name,
        '--role',
        role,
        '--state',
        state,
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      tokens[name] = (JSON.parse(r.stdout) as { token: string }).token;
    }
    const rollout = uplift(rolloutArgs({ topology, state }));
    expect(rollout.code, rollout.stderr).toBe(0);
    runId = rolloutEnd(rollout.stdout).runId as string;
    server = await startServeProcess(join(cli.root, 'dist/cli/main.js'), [
      '--state',
      state,
      '--topology',
      topology,
    ]);
    store = await openStateStore({ file: state, env: {} });
    browser = await launchChromium({ width: 1280, height: 900 });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    expect(await server?.stop()).toBe(0);
    await store?.close();
    await cluster?.dispose();
    await prod?.dispose();
  });

  const open = async (path: string) => {
    const page = await browser.context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}${path}`);
    return { page, errors };
  };
  const signIn = async (page: Page, token: string) => {
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Views' }).waitFor();
  };

  it('signs in with a pasted token and keeps no secret in the page', async () => {
    const { page, errors } = await open('/fleet');
    await page.getByLabel('Token').waitFor();
    const login = await seriousViolations(page);
    await screenshot(page, 'login');

    await signIn(page, tokens.olga);
    const kept = await page.evaluate<Record<string, string>>(
      `({ cookie: document.cookie, local: JSON.stringify(localStorage),
          session: JSON.stringify(sessionStorage), html: document.documentElement.outerHTML })`,
    );

    expect(login.bad).toEqual([]);
    expect(await page.getByTestId('who').textContent()).toBe('olga operator');
    // The session is an HttpOnly cookie: the page cannot read it; the token is nowhere.
    expect(kept.cookie).toBe('');
    expect(`${kept.local}${kept.session}${kept.html}`).not.toContain(tokens.olga);
    // Before signing in, the app asks who is signed in: the 401 is that answer, nothing else.
    expect(unexpected(errors, /status of 401 .*\/api\/session\)$/)).toEqual([]);
    await page.close();
  });

  const views = [
    {
      name: 'fleet',
      path: '/fleet',
      ready: '[data-testid="fleet-table"] tbody tr:not(.spacer)',
      check: async (page: Page) => {
        const rows = page.locator('[data-testid="fleet-table"] tbody tr:not(.spacer)');
        expect(await rows.count()).toBe(4);
        // The store's view: each node's version where the run left it, and the run's state. The
        // rows come from /api/fleet, their run states from a second request: wait for those too.
        await rows.first().filter({ hasText: 'validated' }).waitFor();
        expect(await rows.first().textContent()).toContain(to);
        expect(await rows.first().textContent()).toContain('validated');
        await page.getByLabel('Search').fill('n2');
        await page.getByTestId('fleet-count').filter({ hasText: '2 of 4 node(s)' }).waitFor();
        await page.getByRole('combobox', { name: 'Environment' }).selectOption('prod');
        await page.getByTestId('fleet-count').filter({ hasText: '1 of 4 node(s)' }).waitFor();
        await page.getByLabel('Search').fill('');
        await page.getByTestId('fleet-count').filter({ hasText: '2 of 4 node(s)' }).waitFor();
        await page.getByRole('combobox', { name: 'Environment' }).selectOption('');
        await page.getByTestId('fleet-count').filter({ hasText: '4 of 4 node(s)' }).waitFor();
      },
    },
    {
      name: 'plan',
      path: '/plan?env=prod&deployment=cluster',
      ready: '[data-testid="plan-report"]',
      check: async (page: Page) => {
        const report = page.getByTestId('plan-report');
        // prod is not upgraded yet: its plan, drawn by the report's components.
        expect(await report.locator('.verdict').count()).toBe(1);
        expect(await report.locator('svg').count()).toBeGreaterThan(1);
        expect(await report.getByRole('heading', { level: 2 }).first().textContent()).toContain(
          `${from} → ${to}`,
        );
        expect(await report.locator('ol.steps li').count()).toBeGreaterThan(0);
        expect(await page.getByTestId('estimate').textContent()).toMatch(/p50 .+ p90/);
      },
    },
    {
      name: 'rollout',
      path: '/rollout?env=test',
      ready: '[data-testid="run-nodes"] tbody tr',
      check: async (page: Page) => {
        await page.getByTestId('link').filter({ hasText: 'live' }).waitFor();
        const nodes = page.locator('[data-testid="run-nodes"] tbody tr');
        expect(await nodes.count()).toBe(2);
        expect(await nodes.first().textContent()).toContain('validated');
        expect(await page.getByTestId('run-outcome').textContent()).toContain('passed');
        // The audit of the run, replayed from the start by its event stream.
        await page.getByTestId('run-log').getByText('rollout.finish').waitFor();
        expect(await page.getByRole('button', { name: 'Start' }).count()).toBe(1);
      },
    },
    {
      name: 'history',
      path: '/history',
      ready: '[data-testid="audit"] tbody tr',
      check: async (page: Page) => {
        // Runs and audit come from two requests: the view is ready on the audit, so wait for the runs too.
        const runs = page.locator('[data-testid="runs"] tbody tr');
        await runs.first().waitFor();
        expect(await runs.count()).toBe(1);
        await page.getByRole('searchbox', { name: 'Search' }).fill('serve.token.create');
        await page.waitForURL(/q=serve\.token\.create/);
        await page.getByTestId('audit-count').filter({ hasText: '2 entries' }).waitFor();
        const csv = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
        const res = await page.request.get(`${server.url}${csv}`);
        expect(res.headers()['content-type']).toContain('text/csv');
        expect(
          (await res.text()).split('\r\n').filter((l) => l.includes('serve.token.create')),
        ).toHaveLength(2);
      },
    },
  ];

  it.each(views)(
    '$name renders with no console error, no serious axe violation, and is saved as a screenshot',
    async (v) => {
      const { page, errors } = await open(v.path);
      await page.locator(v.ready).first().waitFor({ timeout: 60_000 });
      await v.check(page);
      const axe = await seriousViolations(page);
      const shot = await screenshot(page, v.name);

      expect(axe.bad).toEqual([]);
      expect(axe.checked).toBeGreaterThan(0);
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      expect(errors).toEqual([]);
      await page.close();
    },
    90_000,
  );

  it('shows a new audit row in History and a run event in Rollout within a second', async () => {
    const history = await open('/history');
    await history.page.locator('[data-testid="audit"] tbody tr').first().waitFor();
    const rollout = await open(`/rollout?env=test&run=${runId}`);
    await rollout.page.getByTestId('link').filter({ hasText: 'live' }).waitFor();
    await rollout.page.getByTestId('run-log').getByText('rollout.finish').waitFor();

    const row = await store.audit({
      actor: 'e2e',
      controller: 'dashboard-e2e',
      env: 'test',
      runId,
      action: 'e2e.marker',
      outcome: 'ok',
    });
    const t0 = performance.now();
    await Promise.all([
      history.page.locator(`[data-audit-id="${row.id}"]`).waitFor({ timeout: 1000 }),
      rollout.page.getByTestId('run-log').getByText('e2e.marker').waitFor({ timeout: 1000 }),
    ]);
    const ms = performance.now() - t0;

    expect(ms).toBeLessThan(1000);
    expect(history.errors).toEqual([]);
    expect(rollout.errors).toEqual([]);
    await history.page.close();
    await rollout.page.close();
  });

  it('shows a viewer no action; the API refuses its POST with 403 and audits it', async () => {
    await browser.context.clearCookies();
    const { page, errors } = await open('/rollout?env=test');
    await signIn(page, tokens.vera);
    await page.locator('[data-testid="run-nodes"] tbody tr').first().waitFor();
    const buttons = await page.getByRole('button').allTextContents();
    await screenshot(page, 'rollout-viewer');

    const refused = await page.evaluate(async () => {
      const { csrfToken } = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      const res = await fetch('/api/rollouts/dry-run', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
        body: JSON.stringify({ env: 'test' }),
      });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    });
    const audited = (await store.listAudit()).filter(
      (e) => e.action === 'serve.refused' && e.actor === 'vera',
    );

    expect(buttons).not.toContain('Start');
    expect(buttons.filter((b) => /dry run|start|pause|resume|abort|approve/i.test(b))).toEqual([]);
    expect(await page.locator('fieldset.actions').count()).toBe(0);
    expect(refused).toEqual({
      status: 403,
      body: { error: expect.objectContaining({ code: 'UPLIFT_SERVE_FORBIDDEN' }) },
    });
    expect(audited).toMatchObject([
      {
        outcome: 'refused',
        detail: { method: 'POST', path: '/api/rollouts/dry-run', role: 'viewer' },
      },
    ]);
    // Only the refusals asked for: no session before signing in, and the viewer's POST.
    expect(
      unexpected(
        errors,
        /status of 401 .*\/api\/session\)$/,
        /status of 403 .*\/api\/rollouts\/dry-run\)$/,
      ),
    ).toEqual([]);
    await page.close();
  });

  it("marks the versions and states that come with an environment's last run as loading until it arrives, then unknown if it cannot be read", async () => {
    await browser.context.clearCookies();
    const { page } = await open('/fleet');
    await signIn(page, tokens.olga);
    const rows = page.locator('[data-testid="fleet-table"] tbody tr:not(.spacer)');
    const testRow = rows.filter({ hasText: 'test' }).first();
    let release = () => {};
    let answer: 'hold' | 'fail' = 'hold';
    await page.route('**/api/runs/*', async (route) => {
      if (answer === 'fail') return route.abort();
      await new Promise<void>((r) => {
        release = r;
      });
      return route.continue();
    });

    await page.reload();
    await testRow.getByTestId('fleet-pending').first().waitFor();
    const whileHeld = await testRow.textContent();
    const pendingCells = await testRow.getByTestId('fleet-pending').count();
    release();
    await testRow.filter({ hasText: 'validated' }).waitFor();
    const arrived = await testRow.textContent();
    answer = 'fail';
    await page.reload();
    await rows.first().waitFor();
    await page.waitForFunction(
      `document.querySelectorAll('[data-testid="fleet-pending"]').length === 0`,
    );
    const failed = await testRow.textContent();
    await page.close();

    // Held: the version and the run state are on their way, not unknown.
    expect(pendingCells).toBe(2);
    expect(whileHeld).toContain('loading…');
    expect(whileHeld).not.toContain('unknown');
    expect(arrived).toContain(to);
    expect(arrived).not.toContain('loading…');
    // The run could not be read: unknown, as said.
    expect(failed).toContain('unknown');
    expect(failed).not.toContain('loading…');
  });

  it('refuses an operator POST without the X-CSRF-Token header, and takes it with the header', async () => {
    await browser.context.clearCookies();
    const { page } = await open('/fleet');
    await signIn(page, tokens.olga);

    const answers = await page.evaluate(async () => {
      const post = (headers: Record<string, string>) =>
        fetch('/api/rollouts/dry-run', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ env: 'test' }),
        }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as Record<string, unknown>,
        }));
      const { csrfToken } = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      return {
        without: await post({}),
        wrong: await post({ 'x-csrf-token': 'x'.repeat(43) }),
        with: await post({ 'x-csrf-token': csrfToken }),
      };
    });

    expect(answers.without).toMatchObject({
      status: 403,
      body: { error: { code: 'UPLIFT_SERVE_CSRF' } },
    });
    expect(answers.wrong).toMatchObject({
      status: 403,
      body: { error: { code: 'UPLIFT_SERVE_CSRF' } },
    });
    expect(answers.with).toMatchObject({ status: 200, body: { dryRun: true, env: 'test' } });
    expect(server.stderr()).toContain('no valid X-CSRF-Token');
    for (const n of cluster.nodes) expect(nodeVersion(n)).toBe(to);
    await page.close();
  }, 60_000);

  it('lets an operator start a rollout of prod, follow it live and abort it back to the old version', async () => {
    await browser.context.clearCookies();
    const { page, errors } = await open('/rollout?env=prod');
    await signIn(page, tokens.olga);
    await page.getByRole('button', { name: 'Start' }).click();

    // Live: the job's run appears, and its node events arrive over the event stream.
    await page
      .getByTestId('job-state')
      .filter({ hasText: /running: start by olga/ })
      .waitFor();
    const log = page.getByTestId('run-log');
    await log
      .locator('li', { hasText: /node\.upgrade\s*ok/ })
      .first()
      .waitFor({ timeout: 120_000 });
    await page.getByTestId('link').filter({ hasText: 'live' }).waitFor();
    await screenshot(page, 'rollout-live');
    await page.getByRole('button', { name: 'Abort' }).click();

    await page
      .getByTestId('job-state')
      .filter({ hasText: /rolled-back: abort by olga/ })
      .waitFor({ timeout: 120_000 });
    await page
      .getByTestId('run-outcome')
      .filter({ hasText: 'rolled-back' })
      .waitFor({ timeout: 10_000 });
    await log
      .locator('li', { hasText: /node\.rollback/ })
      .first()
      .waitFor();
    await screenshot(page, 'rollout-rolled-back');
    const audit = (await store.listAudit({ env: 'prod' })).map(
      (e) => `${e.actor} ${e.action} ${e.outcome}`,
    );

    for (const n of prod?.nodes ?? []) expect(nodeVersion(n)).toBe(from);
    expect(audit).toContain('olga serve.rollout.abort ok');
    expect(audit.filter((e) => e.includes('node.rollback'))).not.toEqual([]);
    expect(unexpected(errors, /status of 401 .*\/api\/session\)$/)).toEqual([]);
    await page.close();
  }, 240_000);
});
