import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import type { ServiceState } from '../../detect/index.ts';
import { fail, listText, pass, plural, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult, ProcessInfo } from '../types.ts';

export const id = 'leftover-pids';

/**
 * Two kinds of leftovers, as the guide's "check for leftover running processes and .pid files in
 * var/run" means them: pid files whose process is gone (a crash, a kill -9), which make start
 * scripts believe the service runs; and processes of the installation that no pid file names,
 * which stop_all cannot stop and which keep files open during the upgrade.
 */
async function run(ctx: CheckContext): Promise<CheckResult> {
  const services = ctx.facts.services;
  if (services === undefined) {
    return warn(
      "the profile's pid files were not read",
      `look for the service's .pid files in ${ctx.install} and for processes started from it`,
    );
  }
  const stale = services.filter((s) => s.leftover);
  const processes = await ctx.host.processes();
  const roots = [...new Set([ctx.install, await realpath(ctx.install).catch(() => ctx.install)])];
  const strays = findStrays(ctx, processes, services, roots);
  const details = {
    stalePidFiles: stale.map((s) => ({ file: s.pidFile, pid: s.pid })),
    processes: strays.map((p) => ({ pid: p.pid, command: p.argv.join(' ') })),
  };
  if (stale.length === 0 && strays.length === 0) {
    const seen = processes.length === 0 ? ' (the process table is not readable here)' : '';
    const running = services.filter((s) => s.running).length;
    return pass(
      `no leftover pid file (${running} of ${plural(services.length, 'service')} running); no other process of the installation${seen}`,
      details,
    );
  }
  const found: string[] = [];
  const todo: string[] = [];
  if (stale.length > 0) {
    found.push(listText(stale.map(describeStale)));
    todo.push(`remove ${listText(stale.map((s) => s.pidFile))}`);
  }
  if (strays.length > 0) {
    found.push(
      `${plural(strays.length, 'process')} of the installation without a pid file: ${listText(
        strays.map((p) => `pid ${p.pid} (${shorten(p.argv.join(' '))})`),
      )}`,
    );
    todo.push(
      `stop ${strays.length === 1 ? 'it' : 'them'} (kill ${strays.map((p) => p.pid).join(' ')})`,
    );
  }
  return fail(found.join('; '), todo.join('; '), details);
}

function describeStale(s: ServiceState): string {
  if (s.pid === null) return `${s.pidFile} holds no pid`;
  return s.note?.includes('another program')
    ? `${s.pidFile} names pid ${s.pid}, which is now another program`
    : `${s.pidFile} names pid ${s.pid}, which is not running`;
}

/**
 * Processes whose arguments name a path inside the installation, except running services and
 * their children (a server's workers) and uplift itself with the processes that started it.
 */
function findStrays(
  ctx: CheckContext,
  processes: readonly ProcessInfo[],
  services: readonly ServiceState[],
  roots: readonly string[],
): ProcessInfo[] {
  const parent = new Map(processes.map((p) => [p.pid, p.ppid]));
  const mine = new Set<number>();
  for (
    let pid: number | undefined = ctx.host.pid;
    pid !== undefined && pid > 0 && !mine.has(pid);
  ) {
    mine.add(pid);
    pid = parent.get(pid);
  }
  const servicePids = new Set(services.filter((s) => s.running).map((s) => s.pid));
  const underService = (pid: number): boolean => {
    const seen = new Set<number>();
    for (let p: number | undefined = pid; p !== undefined && p > 0 && !seen.has(p); ) {
      if (servicePids.has(p)) return true;
      seen.add(p);
      p = parent.get(p);
    }
    return false;
  };
  return processes.filter(
    (p) => !mine.has(p.pid) && !underService(p.pid) && namesInstall(p.argv, roots),
  );
}

/**
 * True when an argument names a path inside the installation (`/opt/skiff/lib/server.js`,
 * `-Dhome=/opt/skiff/conf`). The installation's own path alone does not count: that is how
 * `uplift check --install /opt/skiff` and an operator's shell name it.
 */
function namesInstall(argv: readonly string[], roots: readonly string[]): boolean {
  return roots.some((root) => {
    const inside = root + sep;
    return argv.some((a) => a.includes(inside) && !a.endsWith(inside));
  });
}

function shorten(command: string): string {
  return command.length > 80 ? `${command.slice(0, 77)}...` : command;
}

export const api: Check = { id, title: 'No leftover pid files or processes', run };
