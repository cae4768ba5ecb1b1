import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, round } from './stats.ts';

/** Running a command as a real process, timing it and reading its peak RSS: shared by the benches. */
export interface RunFigures {
  command: string;
  /** Best of the rounds. */
  seconds: number;
  /** Median of the rounds: one lucky round of a tool moves the best by a tenth on this VM. */
  medianSeconds: number;
  runs: number[];
  /** Tree bytes per second of the best round, in MB/s (10^6 bytes). */
  mbPerSecond: number;
  /** Peak resident memory of the process, for uplift only. */
  peakRssMB?: number;
  /** Size of the archive written, for backups. */
  archiveBytes?: number;
}

export interface Comparison {
  uplift: RunFigures;
  tool: RunFigures;
  /** uplift seconds / tool seconds (best rounds): below 1 means uplift is faster. */
  ratio: number;
  /** The same of the medians. */
  medianRatio: number;
}

export interface Timed {
  seconds: number;
  peakRssMB: number;
  stdout: string;
}

/** A process run to completion, whatever its exit code: wall time, peak RSS, output. */
export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  peakRssMB: number;
}

/** Runs a command to completion, polling /proc for its peak RSS (VmHWM) on Linux. */
export function runProcess(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // Exited between polls.
      }
    }, 25);
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({
        code,
        stdout,
        stderr,
        seconds: (performance.now() - t0) / 1000,
        peakRssMB: round(peakKb / 1024),
      });
    });
  });
}

/**
 * A private copy of dist/ next to links to everything else at the root (node_modules, profiles,
 * package.json, …), so that a rebuild of the shared dist/ during a long bench cannot change the
 * code under measurement halfway. Returns the copied CLI.
 */
export function snapshotDist(root: string, dir: string): string {
  const snap = join(dir, 'uplift');
  mkdirSync(snap);
  cpSync(join(root, 'dist'), join(snap, 'dist'), { recursive: true });
  for (const name of readdirSync(root))
    if (name !== 'dist') symlinkSync(join(root, name), join(snap, name));
  return join(snap, 'dist/cli/main.js');
}

/**
 * {@link snapshotDist}, returning the command operators run: `uplift` as package.json installs
 * it (dist/bundle/uplift.cjs, the whole CLI in one file through its V8 code cache), which starts
 * about 90 ms sooner than dist/cli/main.js.
 */
export function snapshotBundle(root: string, dir: string): string {
  snapshotDist(root, dir);
  return join(dir, 'uplift/dist/bundle/uplift.cjs');
}

/** {@link runProcess} that fails unless the command exits 0. */
export async function timed(cmd: string, args: string[], cwd: string): Promise<Timed> {
  const r = await runProcess(cmd, args, { cwd });
  if (r.code !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stderr.slice(0, 2000)}`);
  return { seconds: r.seconds, peakRssMB: r.peakRssMB, stdout: r.stdout };
}

export function figures(
  command: string,
  runs: Timed[],
  bytes: number,
  extra: Partial<RunFigures> = {},
): RunFigures {
  const best = Math.min(...runs.map((r) => r.seconds));
  return {
    command,
    seconds: round(best),
    medianSeconds: round(median(runs.map((r) => r.seconds))),
    runs: runs.map((r) => round(r.seconds)),
    mbPerSecond: round(bytes / 1e6 / best),
    ...extra,
  };
}

export function compare(uplift: RunFigures, tool: RunFigures): Comparison {
  return {
    uplift,
    tool,
    ratio: round(uplift.seconds / tool.seconds),
    medianRatio: round(uplift.medianSeconds / tool.medianSeconds),
  };
}

/**
 * Removes what an earlier round left at `path` and commits the removal (`sync -f`) before the next
 * command is timed: on this ext4 (mounted with `discard`) freeing half a gigabyte makes the next
 * journal commit slow, and a command that syncs (uplift's build, restore, `tar && sync`) would
 * otherwise pay for the previous round's files, one that does not (`tar | zstd`) would not.
 */
export function removed(path: string): void {
  rmSync(path, { recursive: true, force: true });
  spawnSync('sync', ['-f', dirname(path)], { stdio: 'ignore' });
}
