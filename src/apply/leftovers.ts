import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../util/index.ts';
import { runMark, type Services } from './services.ts';

/*
 * What a killed run left running. A kill -9 ends uplift, not the commands it had started: a stop
 * command still waiting for the service to finish its transfers, a start command, a probe. Acting
 * while one of them runs undoes what resume does (the stop ends the service resume has just found
 * running, or removes the pid files of the one resume has just started). Every lifecycle command
 * of a run carries `UPLIFT_RUN_ID=<runId>` in its environment (src/apply/services.ts); resume waits
 * for those processes to end before it decides anything. Linux only (/proc); elsewhere none are
 * found and resume acts at once, as before.
 */

/** Pids of live processes carrying the run's mark, other than this process and the services'. */
export async function leftoverProcesses(runId: string, svc: Services): Promise<number[]> {
  const mark = Buffer.from(`${runMark}=${runId}\0`);
  const services = new Set((await svc.processes()).map((p) => p.pid));
  const names = await readdir('/proc').catch(() => [] as string[]);
  const found: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid || services.has(pid)) continue;
    const env = await readFile(`/proc/${name}/environ`).catch(() => undefined);
    if (!env) continue;
    const at = env.indexOf(mark);
    if (at === 0 || (at > 0 && env[at - 1] === 0)) found.push(pid);
  }
  return found;
}

/**
 * Waits until no process of the killed run is left (the services' own excepted), at most
 * `timeoutMs` (the longest a lifecycle command may run); what is still there then is ended with
 * SIGKILL, as uplift itself ends a command that outlives its timeout. Returns the pids waited for.
 */
export async function settleLeftovers(
  runId: string,
  svc: Services,
  timeoutMs: number,
  onEvent?: (line: string) => void,
): Promise<{ waited: number[]; killed: number[] }> {
  const waited = await leftoverProcesses(runId, svc);
  if (waited.length === 0) return { waited, killed: [] };
  onEvent?.(
    `wait for what the interrupted run left running (pid ${waited.join(', ')}) to finish first`,
  );
  const end = Date.now() + timeoutMs;
  let left = waited;
  while (left.length > 0 && Date.now() < end) {
    await sleep(100);
    left = (await leftoverProcesses(runId, svc)).filter((pid) => isAlive(pid));
  }
  for (const pid of left)
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  return { waited, killed: left };
}
