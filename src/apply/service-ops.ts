import { refuseIfRestoreInterrupted } from '../backup/index.ts';
import { installedVersion } from '../detect/index.ts';
import { shellWord, UpliftError } from '../errors/index.ts';
import type { Profile } from '../profile/index.ts';
import { acquireLock, releaseLock } from './lock.ts';
import { statePaths } from './paths.ts';
import { servicesOf } from './services.ts';
import { readStatus, type StatusResult } from './status.ts';
import { exists } from './tree.ts';

/*
 * `uplift service status|stop|start`: the node-level operations a rollout runs on each node
 * (docs/apply.md, "Service commands"). They drive the installation's services exactly as apply
 * does (the profile's lifecycle, src/lifecycle), under apply's lock, and never while a run waits
 * for `uplift resume`.
 */

/** A live process of a service. */
export interface ServiceProcess {
  service: string;
  pid: number;
  pidFile?: string;
}

export interface ServiceStatus {
  install: string;
  profile: { name: string; dir: string };
  /** The installed version as detection reads it; null when it cannot be read (a switch cut short). */
  version: string | null;
  /** The live processes of the profile's services (empty: stopped). */
  running: ServiceProcess[];
  /** One round of the readiness probes passed just now: what a client gets. */
  ready: boolean;
  /** Why it is not ready: the services with no process, or the probe that failed and what it got. */
  notReady?: string;
  /** Each probe of that round: its name, whether it passed, what it got. */
  probes: { name: string; ok: boolean; detail: string }[];
  /** An apply (or rollback) run was cut short and waits for `uplift resume`. */
  interrupted: boolean;
  /** The run state as `uplift status` reports it: idle, running (a live uplift holds the lock), interrupted. */
  state: StatusResult['state'];
  /** The holder of the installation's lock, when one holds it (or a stale lock is left). */
  lock: { pid: number; command?: string; startedAt: string; stale?: string } | null;
}

export interface ServiceChange {
  install: string;
  profile: { name: string; dir: string };
  action: 'stop' | 'start';
  /** False when the services already were as asked (nothing was run). */
  changed: boolean;
  version: string | null;
  /** The live processes afterwards (empty after a stop). */
  running: ServiceProcess[];
  /** start: the readiness probes passed (and stayed passing for the stability window). */
  ready?: boolean;
  /** start: each probe's name and what it saw in the last round. */
  probes?: { name: string; detail: string }[];
  /** start: seconds from the start until ready; stop: seconds until every process was gone. */
  seconds: number;
  /** stop: the pids that were stopped. */
  stopped?: number[];
}

function profileOf(profile: Profile) {
  return { name: profile.manifest.name, dir: profile.dir };
}

async function versionOf(profile: Profile, install: string): Promise<string | null> {
  if (!(await exists(install))) return null;
  return (await installedVersion(profile, install).catch(() => undefined)) ?? null;
}

const round = (ms: number) => Math.round(ms) / 1000;

/** Where the installation's services stand now; reads only (no lock taken). */
export async function serviceStatus(
  install: string,
  profile: Profile,
  o: { probeTimeoutMs?: number } = {},
): Promise<ServiceStatus> {
  const svc = servicesOf(profile, install);
  const s = await readStatus(install);
  const version = await versionOf(profile, install);
  const running = (await exists(install)) ? await svc.processes() : [];
  const r =
    running.length > 0 ? await svc.probeOnce(version ?? undefined, o.probeTimeoutMs) : undefined;
  const failed = r?.probes.find((p) => !p.ok);
  const notReady = !r
    ? 'no service runs'
    : r.notRunning.length > 0
      ? `no process of ${r.notRunning.join(', ')} runs`
      : failed
        ? `${failed.name}: ${failed.detail}`
        : undefined;
  return {
    install,
    profile: profileOf(profile),
    version,
    running: running.map((p) => ({
      service: p.service,
      pid: p.pid,
      ...(p.pidFile ? { pidFile: p.pidFile } : {}),
    })),
    ready: r?.ready === true,
    ...(notReady ? { notReady } : {}),
    probes: r?.probes ?? [],
    interrupted: s.state === 'interrupted',
    state: s.state,
    lock: s.lock
      ? {
          pid: s.lock.pid,
          ...(s.lock.command ? { command: s.lock.command } : {}),
          startedAt: s.lock.startedAt,
          ...(s.lock.stale ? { stale: s.lock.stale } : {}),
        }
      : null,
  };
}

/**
 * Runs `work` under the installation's lock (exit 4 while another uplift holds it), refusing
 * while an apply run or a restore waits to be finished (exit 5).
 */
async function underLock<T>(install: string, command: string, work: () => Promise<T>): Promise<T> {
  await refuseIfRestoreInterrupted(install);
  const p = statePaths(install);
  await acquireLock(p, command);
  try {
    if (await exists(p.journal))
      throw new UpliftError(
        'UPLIFT_APPLY_INCOMPLETE',
        `a run on ${install} did not finish (${p.journal}); its services are left as they are`,
        {
          hint: `Finish or undo that run first:\nuplift resume --install ${shellWord(install)}`,
          unchanged: true,
          state: `a run did not finish; ${p.journal} records how far it got`,
          next: `uplift resume --install ${shellWord(install)}`,
        },
      );
    return await work();
  } finally {
    await releaseLock(p);
  }
}

/**
 * Stops the services as apply's stop step does (last listed first, through the profile's stop
 * command, systemd unit or SIGTERM; every process waited for within the service's
 * stopTimeoutSeconds, never SIGKILL). Already stopped: nothing runs, `changed: false`.
 */
export async function serviceStop(
  install: string,
  profile: Profile,
  onEvent?: (line: string) => void,
): Promise<ServiceChange> {
  return underLock(install, 'service stop', async () => {
    const started = performance.now();
    const svc = servicesOf(profile, install, onEvent);
    const version = await versionOf(profile, install);
    const before = await svc.processes();
    if (before.length > 0) await svc.stop({ code: 'UPLIFT_SERVICE_STOP_FAILED' });
    else onEvent?.('no service runs: nothing to stop');
    return {
      install,
      profile: profileOf(profile),
      action: 'stop' as const,
      changed: before.length > 0,
      version,
      running: [],
      seconds: round(performance.now() - started),
      stopped: before.map((p) => p.pid),
    };
  });
}

/**
 * Starts the services as apply's start step does and waits until the readiness probes pass and
 * keep passing for the stability window (readiness.timeoutSeconds at most): UPLIFT_SERVICE_NOT_READY
 * names the probe and what it got, and the services are left running for whoever looks next.
 * Already running and ready: nothing is run, `changed: false`.
 */
export async function serviceStart(
  install: string,
  profile: Profile,
  onEvent?: (line: string) => void,
): Promise<ServiceChange> {
  return underLock(install, 'service start', async () => {
    const started = performance.now();
    const svc = servicesOf(profile, install, onEvent);
    const version = await versionOf(profile, install);
    if (version === null)
      throw new UpliftError(
        'UPLIFT_SERVICE_VERSION_UNKNOWN',
        `cannot read the installed version of ${install}, which the profile ${profile.manifest.name}'s probes check`,
        {
          hint: `Look at what the installation holds: uplift status --install ${shellWord(install)}`,
          unchanged: true,
        },
      );
    const services = profile.manifest.lifecycle?.services.length ?? 0;
    const before = await svc.processes();
    const allUp = new Set(before.map((p) => p.service)).size >= services;
    if (allUp && (await svc.probeOnce(version)).ready) {
      onEvent?.('every service runs and is ready: nothing to start');
      return {
        install,
        profile: profileOf(profile),
        action: 'start' as const,
        changed: false,
        version,
        running: before,
        ready: true,
        probes: [],
        seconds: round(performance.now() - started),
      };
    }
    if (!allUp) await svc.start({ code: 'UPLIFT_SERVICE_START_FAILED', changed: true }, version);
    let ready: Awaited<ReturnType<typeof svc.waitUntilReady>>;
    try {
      ready = await svc.waitUntilReady(version);
    } catch (err) {
      if (!(err instanceof UpliftError) || err.code !== 'UPLIFT_APPLY_PROBE_FAILED') throw err;
      const left = (await svc.processes()).map((p) => p.pid);
      throw new UpliftError('UPLIFT_SERVICE_NOT_READY', err.message, {
        cause: err,
        ...(err.hint ? { hint: err.hint } : {}),
        unchanged: false,
        state:
          left.length > 0
            ? `its services were started and still run (pid ${left.join(', ')}), but are not ready`
            : 'its services were started but no process of them runs now',
        next: `uplift service stop --install ${shellWord(install)}`,
      });
    }
    return {
      install,
      profile: profileOf(profile),
      action: 'start' as const,
      changed: !allUp,
      version,
      running: await svc.processes(),
      ready: true,
      probes: ready.probes,
      seconds: round(performance.now() - started),
    };
  });
}
