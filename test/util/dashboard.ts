import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot } from './run-cli.ts';

/**
 * What the dashboard's browser tests (test/e2e/dashboard-*.test.ts) and bench/dashboard.ts share:
 * a real `uplift serve` process, a page that records its console errors, axe-core and screenshots.
 */

export const dashboardArtifacts = join(repoRoot, 'test-artifacts/dashboard');

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** What the server wrote to standard error (refusals, one line each). */
  stderr: () => string;
  /** SIGTERM, then the exit code. */
  stop: () => Promise<number | null>;
}

/** Starts `node <cli> serve --listen 127.0.0.1:0 …` and waits for the URL it prints. */
export async function startServeProcess(cli: string, args: string[]): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [cli, 'serve', '--listen', '127.0.0.1:0', '--json', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (b: Buffer) => {
      stdout += b;
      if (stdout.includes('\n'))
        resolve((JSON.parse(stdout.split('\n')[0] as string) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`uplift serve exited ${code}: ${stderr}`)));
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    url,
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * Console errors and uncaught exceptions of a page, from the moment it is watched. A response
 * of 4xx is one too (Chromium logs "Failed to load resource"), with its URL: a test allows only
 * the refusals it expects, e.g. the 401 of GET /api/session before signing in.
 */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error')
      errors.push(`console: ${m.text()}${m.location().url ? ` (${m.location().url})` : ''}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/** A full-page screenshot kept as a test artifact (test-artifacts/ is not committed). */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(dashboardArtifacts, { recursive: true });
  const file = join(dashboardArtifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
