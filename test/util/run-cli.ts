import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { run } from '../../src/cli/program.ts';

export const repoRoot = join(import.meta.dirname, '../..');
export const cliPath = join(repoRoot, 'dist/cli/main.js');
/**
 * What `uplift` runs once installed (package.json `bin`): the single-file CLI through its
 * code-cache loader. The e2e helpers that start uplift hundreds of times run this one: it is the
 * operator's entry, and a start costs about 40 % less CPU than the unbundled dist/cli/main.js.
 */
export const binPath = join(repoRoot, 'dist/bundle/uplift.cjs');
/**
 * The built CLI behind a test-only entry that takes UPLIFT_TEST_CRASH_AT and UPLIFT_TEST_NOW from
 * the environment (test/util/cli-with-faults.mjs); the real entry ignores both.
 */
export const faultsCliPath = join(repoRoot, 'test/util/cli-with-faults.mjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a real process, the way an operator or a script does. */
export function runCliProcess(args: readonly string[], opts: { cwd?: string } = {}): CliRun {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: opts.cwd ?? repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the same CLI entry in-process: the whole command path without a process start, for large tables. */
export async function runCliInProcess(args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    isTty: false,
  });
  return { code, stdout, stderr };
}
