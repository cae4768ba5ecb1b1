import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { repoRoot } from './run-cli.ts';

/** Debian's chromium (`.ci/run` installs it); playwright never downloads a browser here. */
export const chromiumPath = '/usr/bin/chromium';

/**
 * Whether the browser tests can run: with /usr/bin/chromium, yes; without it they skip, except
 * under CI=true, where a missing browser is a failure (the caller's test says so).
 */
export const hasChromium = existsSync(chromiumPath);

const args = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts Chromium with a fresh profile folder of its own, removed by `close`. */
export async function launchChromium(
  viewport = { width: 1000, height: 800 },
): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'uplift-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args,
    viewport,
    // The same pixels on every machine with the same chromium: no device scaling, no animation.
    deviceScaleFactor: 1,
    reducedMotion: 'reduce',
    colorScheme: 'light',
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

interface AxeResult {
  violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[];
  passes: unknown[];
}

const axeSource = () => readFileSync(join(repoRoot, 'node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical violations on the page. axe is evaluated through the DevTools
 * protocol (not a <script> tag: the dashboard's CSP refuses inline scripts, as it should).
 */
export async function seriousViolations(page: Page): Promise<{ bad: string[]; checked: number }> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(axeSource());
  const r = await page.evaluate<AxeResult>(
    "window.axe.run(document, { resultTypes: ['violations'] })",
  );
  const bad = r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(' '))
          .join(', ')}`,
    );
  return { bad, checked: r.passes.length + r.violations.length };
}
