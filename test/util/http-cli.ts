import { type ChildProcess, spawn } from 'node:child_process';
import { cliPath, repoRoot } from './run-cli.ts';

export interface AsyncCliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, or `{}` when it is not JSON. */
  json: Record<string, unknown>;
}

/**
 * Runs the built CLI as a real process without blocking this process: the HTTP server the
 * child talks to runs here, so a synchronous spawn would deadlock. `entry` is the real one unless
 * a test injects faults through `faultsCliPath`.
 */
export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  entry = cliPath,
): Promise<AsyncCliRun> {
  return startCli(args, env, entry).done;
}

/** Starts the built CLI and returns the process (to kill it) and its outcome. */
export function startCli(
  args: string[],
  env: Record<string, string | undefined>,
  entry = cliPath,
): { child: ChildProcess; done: Promise<AsyncCliRun> } {
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  const done = new Promise<AsyncCliRun>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(stdout);
      } catch {
        // Not JSON: the assertions on json then fail with the output in view.
      }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
  return { child, done };
}

/** The proxy variables unset, so a test's child sees exactly the ones the test sets. */
export const noProxyEnv = {
  HTTP_PROXY: undefined,
  HTTPS_PROXY: undefined,
  NO_PROXY: undefined,
  http_proxy: undefined,
  https_proxy: undefined,
  no_proxy: undefined,
};
