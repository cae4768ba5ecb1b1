import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type UpliftCode, UpliftError } from '../errors/index.ts';
import { isAlive, runScript } from '../util/index.ts';

/** A process named by a pid file under `<install>/var/run`. */
export interface RunningProcess {
  pidFile: string;
  pid: number;
}

/** Processes named by `<install>/var/run/*.pid` that are alive (a zombie or a reused-but-gone pid is not). */
export async function findRunningProcesses(install: string): Promise<RunningProcess[]> {
  const runDir = join(install, 'var/run');
  let names: string[];
  try {
    names = await readdir(runDir);
  } catch {
    return [];
  }
  const found: RunningProcess[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith('.pid')) continue;
    let text: string;
    try {
      text = await readFile(join(runDir, name), 'utf8');
    } catch {
      continue;
    }
    const pid = Number.parseInt(text.trim(), 10);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid))
      found.push({ pidFile: `var/run/${name}`, pid });
  }
  return found;
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await sleep(100);
  }
}

export interface ServiceControlOptions {
  /** The code to throw when it fails: backup and restore report their own. */
  code: Extract<UpliftCode, `UPLIFT_${string}_STOP_FAILED` | `UPLIFT_${string}_START_FAILED`>;
  timeoutMs?: number;
  /** True when the installation has already been changed (restore after the swap). */
  changed?: boolean;
}

/**
 * Stops the service with `bin/stop_all` and waits until every process from the pid files has gone;
 * without a stop script, sends SIGTERM to them. Never SIGKILLs: a database server killed mid-write
 * is exactly what a backup must not capture.
 */
export async function stopService(install: string, opts: ServiceControlOptions): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const before = await findRunningProcesses(install);
  const script = join(install, 'bin/stop_all');
  let output = '';
  if (await exists(script)) {
    const r = await runScript(script, [], { cwd: install, timeoutMs, until: 'exit' }).catch(
      (err: Error) => ({
        code: -1,
        output: err.message,
      }),
    );
    output = r.output;
    if (r.code !== 0)
      throw new UpliftError(
        opts.code,
        `bin/stop_all in ${install} exited with ${r.code}: ${output || '(no output)'}`,
        {
          hint: 'Stop the service by hand, check that no process from var/run/*.pid remains, then run the command again.',
          unchanged: !opts.changed,
        },
      );
  } else {
    for (const p of before) {
      try {
        process.kill(p.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  }
  const stopped = await waitUntil(async () => before.every((p) => !isAlive(p.pid)), timeoutMs);
  if (!stopped) {
    const left = before.filter((p) => isAlive(p.pid)).map((p) => `${p.pid} (${p.pidFile})`);
    throw new UpliftError(
      opts.code,
      `the service in ${install} is still running after ${timeoutMs / 1000} s: ${left.join(', ')}`,
      {
        hint: 'Stop these processes by hand, then run the command again.',
        unchanged: !opts.changed,
      },
    );
  }
}

/** Starts the service with `bin/start_all` and waits for a live process in a pid file; returns the pids seen. */
export async function startService(
  install: string,
  opts: ServiceControlOptions,
): Promise<number[]> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const script = join(install, 'bin/start_all');
  if (!(await exists(script)))
    throw new UpliftError(opts.code, `${install} has no bin/start_all`, {
      hint: 'Start the service the way this installation is normally started.',
      unchanged: !opts.changed,
    });
  const r = await runScript(script, [], { cwd: install, timeoutMs, until: 'exit' }).catch(
    (err: Error) => ({
      code: -1,
      output: err.message,
    }),
  );
  if (r.code !== 0)
    throw new UpliftError(
      opts.code,
      `bin/start_all in ${install} exited with ${r.code}: ${r.output || '(no output)'}`,
      {
        hint: 'Read the service log under var/log, fix the cause, then run bin/start_all.',
        unchanged: !opts.changed,
      },
    );
  // A product without pid files has started once its script succeeded; do not wait long for one.
  const pidWaitMs = Math.min(timeoutMs, 10_000);
  let pids: number[] = [];
  await waitUntil(async () => {
    pids = (await findRunningProcesses(install)).map((p) => p.pid);
    return pids.length > 0;
  }, pidWaitMs);
  return pids;
}
