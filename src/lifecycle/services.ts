import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpliftError } from '../errors/index.ts';
import { isAlive, processStart, writeAtomically } from '../util/index.ts';
import { expandPidFiles, findServiceProcesses } from './processes.ts';
import { expandCommand, runCommand } from './run-command.ts';
import type { Service } from './schema.ts';
import { tail } from './text.ts';
import type { LifecycleTarget, RunningProcess, ServiceControlOptions } from './types.ts';
import { expandVars, withCachedFacts } from './vars.ts';

const DEFAULT_STOP_TIMEOUT_S = 60;
const SYSTEMCTL_TIMEOUT_MS = 90_000;
/** How long a started service may take until its process is seen (its pid file written). */
const SEEN_WITHIN_MS = 10_000;
/** A `run` service that exits within this long after its start is reported at once, with its log. */
const EARLY_EXIT_MS = 500;
const KILL_WAIT_MS = 5_000;

function describeProcess(p: RunningProcess): string {
  return p.pidFile ? `${p.pid} (${p.pidFile})` : `${p.pid}`;
}

async function waitUntil(check: () => boolean | Promise<boolean>, end: number): Promise<boolean> {
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await sleep(Math.min(100, Math.max(1, end - Date.now())));
  }
}

/**
 * Stops every service, the last listed first: its systemd unit, its stop command, or SIGTERM to
 * its processes; then waits until every process seen before has exited (stopTimeoutSeconds,
 * default 60). Never SIGKILLs: a server killed mid-write leaves exactly the state a backup or an
 * upgrade must not start from. A service with no live process (and no systemd unit) is left alone:
 * its stop command is not run.
 */
export async function stopServices(
  target: LifecycleTarget,
  o: ServiceControlOptions,
): Promise<void> {
  const t = withCachedFacts(target);
  for (const s of [...t.lifecycle.services].reverse()) await stopService(s, t, o);
}

async function stopService(s: Service, t: LifecycleTarget, o: ServiceControlOptions) {
  const timeoutS = s.stopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_S;
  const end = Date.now() + timeoutS * 1000;
  const before = await findServiceProcesses(s, t);
  if (before.length === 0 && !s.systemd) {
    t.onEvent?.(`${s.name}: not running`);
    return;
  }
  // A pid reused by a new process after the old one exited is not the old process.
  const starts = new Map(before.map((p) => [p.pid, processStart(p.pid)]));
  const isLeft = (p: RunningProcess) => isAlive(p.pid) && processStart(p.pid) === starts.get(p.pid);
  const fail = (message: string, hint: string) =>
    new UpliftError(o.code, message, { hint, unchanged: !o.changed });
  const pids = before.map(describeProcess).join(', ');
  let how: string;
  let output = '';
  if (s.systemd || s.stop) {
    const c = s.systemd
      ? { argv: ['systemctl', 'stop', s.systemd.unit] }
      : (s.stop as NonNullable<Service['stop']>);
    how = `\`${c.argv.join(' ')}\``;
    t.onEvent?.(`stopping ${s.name}${pids ? ` (pid ${pids})` : ''}: ${c.argv.join(' ')}`);
    const r = await runCommand(c, t, { timeoutMs: Math.max(1, end - Date.now()) });
    output = r.output;
    if (r.code !== 0)
      throw fail(
        `could not stop service ${s.name} of ${t.install}: ${how} exited with ${r.code}${pids ? ` (pid ${pids} ran before)` : ''}: ${tail(output, 1000) || '(no output)'}`,
        'Stop the service by hand, check that none of its processes remains, then run the command again.',
      );
  } else {
    how = 'SIGTERM';
    t.onEvent?.(`stopping ${s.name}: SIGTERM to pid ${pids}`);
    for (const p of before) {
      try {
        process.kill(p.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  }
  const stopped = await waitUntil(() => !before.some(isLeft), end);
  if (!stopped) {
    const left = before.filter(isLeft).map(describeProcess).join(', ');
    throw fail(
      `service ${s.name} of ${t.install} is still running ${timeoutS} s after ${how}: pid ${left}${output ? `; the stop command said: ${tail(output, 1000)}` : ''}`,
      'uplift never kills a service it stops: read its log to see why it does not stop, stop it by hand, then run the command again.',
    );
  }
  if (s.run && s.pidFile) await removeOwnPidFile(s, t);
  t.onEvent?.(`${s.name} stopped`);
}

/** A `run` service's pid file is uplift's own: once its process is gone, the file goes too. */
async function removeOwnPidFile(s: Service, t: LifecycleTarget) {
  for (const f of await expandPidFiles(s.pidFile as string, t)) {
    const pid = Number((await readFile(join(t.install, f), 'utf8').catch(() => '')).trim());
    if (!isAlive(pid)) await rm(join(t.install, f), { force: true });
  }
}

/**
 * SIGKILLs whatever still runs of every service. Only for a failed new version being thrown
 * away: its state is discarded with it. Throws UPLIFT_LIFECYCLE_KILL_FAILED when a process
 * survives (it belongs to another user, or hangs in the kernel).
 */
export async function killServices(target: LifecycleTarget): Promise<void> {
  const t = withCachedFacts(target);
  for (const s of [...t.lifecycle.services].reverse()) {
    if (s.systemd)
      await runCommand({ argv: ['systemctl', 'kill', '--signal=SIGKILL', s.systemd.unit] }, t, {
        timeoutMs: SYSTEMCTL_TIMEOUT_MS,
      });
    const procs = await findServiceProcesses(s, t);
    for (const p of procs) {
      t.onEvent?.(`killing ${s.name}: SIGKILL to pid ${describeProcess(p)}`);
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // Already gone, or not ours: the wait below tells.
      }
    }
    if (s.systemd)
      await runCommand({ argv: ['systemctl', 'stop', s.systemd.unit] }, t, {
        timeoutMs: SYSTEMCTL_TIMEOUT_MS,
      });
    const end = Date.now() + KILL_WAIT_MS;
    if (!(await waitUntil(() => procs.every((p) => !isAlive(p.pid)), end))) {
      const left = procs.filter((p) => isAlive(p.pid)).map(describeProcess);
      throw new UpliftError(
        'UPLIFT_LIFECYCLE_KILL_FAILED',
        `service ${s.name} of ${t.install} still runs after SIGKILL: pid ${left.join(', ')}`,
        {
          hint: 'Stop these processes by hand (as root if they belong to another user).',
          unchanged: false,
        },
      );
    }
    if (s.run && s.pidFile) await removeOwnPidFile(s, t);
  }
}

/**
 * Starts every service in the order listed and returns the pids seen. A `run` service that already
 * runs is left as it is; a `start` command always runs (an init script starts what of its product
 * is not running, as one whose processes are only partly up needs). `start` must exit 0, `run` is spawned detached (its own session) with its
 * output appended to `log` and its pid written to `pidFile`, `systemd` is `systemctl start`. Each
 * service's process must then be seen within 10 s. When one fails, those started before it keep
 * running: the caller stops them.
 */
export async function startServices(
  target: LifecycleTarget,
  o: ServiceControlOptions,
): Promise<number[]> {
  const t = withCachedFacts(target);
  const pids: number[] = [];
  for (const s of t.lifecycle.services) pids.push(...(await startService(s, t, o)));
  return pids;
}

async function startService(
  s: Service,
  t: LifecycleTarget,
  o: ServiceControlOptions,
): Promise<number[]> {
  const fail = (message: string, hint: string) =>
    new UpliftError(o.code, message, { hint, unchanged: !o.changed });
  const already = s.start ? [] : await findServiceProcesses(s, t);
  if (already.length > 0) {
    t.onEvent?.(`${s.name} already runs (pid ${already.map(describeProcess).join(', ')})`);
    return already.map((p) => p.pid);
  }
  let how: string;
  if (s.run) {
    how = await spawnRunService(s, t, fail);
  } else {
    const c = s.systemd
      ? { argv: ['systemctl', 'start', s.systemd.unit] }
      : (s.start as NonNullable<Service['start']>);
    how = `\`${c.argv.join(' ')}\``;
    t.onEvent?.(`starting ${s.name}: ${c.argv.join(' ')}`);
    const r = await runCommand(c, t, s.systemd ? { timeoutMs: SYSTEMCTL_TIMEOUT_MS } : {});
    if (r.code !== 0)
      throw fail(
        `could not start service ${s.name} of ${t.install}: ${how} exited with ${r.code}: ${tail(r.output, 1000) || '(no output)'}`,
        "Read the service's log, fix the cause, then run the command again.",
      );
  }
  let seen: RunningProcess[] = [];
  const ok = await waitUntil(async () => {
    seen = await findServiceProcesses(s, t);
    return seen.length > 0;
  }, Date.now() + SEEN_WITHIN_MS);
  if (!ok) {
    const by = s.systemd
      ? `systemd unit ${s.systemd.unit} has no main process`
      : s.pidFile
        ? `no live process is named by ${s.pidFile}`
        : `no process matches ${s.processMatch}`;
    throw fail(
      `service ${s.name} of ${t.install} was started (${how}), but ${SEEN_WITHIN_MS / 1000} s later ${by}`,
      "Read the service's log; if it runs, correct pidFile or processMatch in the profile.",
    );
  }
  t.onEvent?.(`${s.name} started (pid ${seen.map(describeProcess).join(', ')})`);
  return seen.map((p) => p.pid);
}

/** Starts a `run` service detached, writes its pid file, and reports it when it exits at once. */
async function spawnRunService(
  s: Service,
  t: LifecycleTarget,
  fail: (message: string, hint: string) => UpliftError,
): Promise<string> {
  const run = s.run as NonNullable<Service['run']>;
  const x = await expandCommand(run, t);
  const how = `\`${x.display}\``;
  const logFile = run.log ? resolve(t.install, await expandVars(run.log, t)) : undefined;
  const pidFile = join(t.install, (await expandPidFiles(s.pidFile as string, t))[0] as string);
  t.onEvent?.(`starting ${s.name}: ${x.display}${logFile ? ` (output to ${run.log})` : ''}`);
  let logFrom = 0;
  if (logFile) {
    await mkdir(dirname(logFile), { recursive: true });
    logFrom = (await stat(logFile).catch(() => undefined))?.size ?? 0;
  }
  const log = await open(logFile ?? '/dev/null', 'a');
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(x.file, x.args, {
      cwd: x.cwd,
      env: x.env,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (err) {
    throw fail(
      `could not start service ${s.name} of ${t.install}: ${how} in ${x.cwd}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'Check that the program exists and is executable, and that its cwd exists.',
    );
  } finally {
    await log.close();
  }
  const pid = child.pid as number;
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = signal ? `was ended by ${signal}` : `exited with ${code}`;
      resolve();
    }),
  );
  child.unref();
  try {
    await writeAtomically(pidFile, `${pid}\n`);
  } catch (err) {
    // Without its pid file nothing could find it to stop it: it has served nothing yet.
    child.kill('SIGKILL');
    throw fail(
      `could not write the pid file ${pidFile} of service ${s.name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'Make its folder writable by the user uplift runs as, then run the command again.',
    );
  }
  await Promise.race([exit, sleep(EARLY_EXIT_MS)]);
  if (exited !== undefined) {
    const said = logFile
      ? tail(
          (await readFile(logFile).catch(() => Buffer.alloc(0))).subarray(logFrom).toString('utf8'),
          2000,
        )
      : '';
    throw fail(
      `service ${s.name} of ${t.install} ${exited} right after it was started (${how}, pid ${pid})${
        logFile ? `; the end of ${run.log}:\n${said || '(nothing)'}` : ''
      }`,
      logFile
        ? 'Fix what the log says, then run the command again.'
        : "Set run.log in the profile's lifecycle section to keep the service's output, then run the command again.",
    );
  }
  return how;
}
