import { execFile } from 'node:child_process';
import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import { compileGlob, isAlive } from '../util/index.ts';
import type { Service } from './schema.ts';
import type { LifecycleTarget, RunningProcess } from './types.ts';
import { expandVars, withCachedFacts } from './vars.ts';

/**
 * The live processes of every service, in the order the services are listed. A service is seen
 * through its systemd unit's main pid, its pid file(s) or a process whose command line matches
 * `processMatch` and that runs from (or names a path in) the installation. Zombies and pids that
 * name no process are not live.
 */
export async function findRunningProcesses(target: LifecycleTarget): Promise<RunningProcess[]> {
  const t = withCachedFacts(target);
  const found: RunningProcess[] = [];
  for (const s of t.lifecycle.services) found.push(...(await findServiceProcesses(s, t)));
  return found;
}

/** True while any process of any service runs. */
export async function isRunning(t: LifecycleTarget): Promise<boolean> {
  return (await findRunningProcesses(t)).length > 0;
}

export async function findServiceProcesses(
  s: Service,
  t: LifecycleTarget,
): Promise<RunningProcess[]> {
  const found: RunningProcess[] = [];
  const add = (p: RunningProcess) => {
    if (!found.some((f) => f.pid === p.pid)) found.push(p);
  };
  if (s.systemd) {
    const pid = await systemdMainPid(s.systemd.unit);
    if (pid !== undefined && isAlive(pid)) add({ service: s.name, pid });
  }
  if (s.pidFile) {
    for (const file of await expandPidFiles(s.pidFile, t)) {
      const pid = await readPid(join(t.install, file));
      if (pid !== undefined && isAlive(pid)) add({ service: s.name, pid, pidFile: file });
    }
  }
  if (s.processMatch) {
    for (const pid of await matchProcesses(new RegExp(s.processMatch), t.install))
      add({ service: s.name, pid });
  }
  return found;
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    const pid = Number(text.split(/\s/, 1)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid file path(s), relative to the installation: one file, or every file a glob matches. */
export async function expandPidFiles(pattern: string, t: LifecycleTarget): Promise<string[]> {
  let p = await expandVars(pattern, t);
  if (isAbsolute(p)) p = relative(t.install, p);
  const scan = picomatch.scan(p);
  if (!scan.isGlob) return [p];
  const isMatch = compileGlob(p).matches;
  // Without `**` a glob cannot match deeper than it has segments.
  const depth = scan.glob.includes('**') ? 16 : scan.glob.split('/').length;
  const out: string[] = [];
  const walk = async (dir: string, level: number) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(join(t.install, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const rel = dir === '' ? e.name : `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (level < depth) await walk(rel, level + 1);
      } else if (isMatch(rel)) out.push(rel);
    }
  };
  await walk(scan.base, 1);
  return out.sort();
}

function systemdMainPid(unit: string): Promise<number | undefined> {
  return new Promise((done) => {
    execFile(
      'systemctl',
      ['show', '-p', 'MainPID', '--value', unit],
      { timeout: 10_000 },
      (err, stdout) => {
        const pid = Number(String(stdout).trim());
        done(!err && Number.isInteger(pid) && pid > 0 ? pid : undefined);
      },
    );
  });
}

/** uplift itself and the processes that started it: their command lines name the installation too. */
async function ownLineage(): Promise<Set<number>> {
  const pids = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !pids.has(pid)) {
    pids.add(pid);
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return pids;
}

function isInside(path: string, dirs: readonly string[]): boolean {
  return dirs.some((d) => path === d || path.startsWith(d.endsWith(sep) ? d : d + sep));
}

async function matchProcesses(re: RegExp, install: string): Promise<number[]> {
  const dirs = [install];
  const real = await realpath(install).catch(() => install);
  if (real !== install) dirs.push(real);
  const skip = await ownLineage();
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || skip.has(pid)) continue;
    let args: string[];
    try {
      args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    } catch {
      continue;
    }
    if (args.at(-1) === '') args.pop();
    if (args.length === 0 || !re.test(args.join(' '))) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    const inside =
      (cwd !== undefined && isInside(cwd, dirs)) ||
      args.some((a) => isInside(a, dirs) || isInside(a.slice(a.indexOf('=') + 1), dirs));
    if (inside && isAlive(pid)) out.push(pid);
  }
  return out.sort((a, b) => a - b);
}
