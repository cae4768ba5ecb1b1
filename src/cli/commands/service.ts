import {
  type ServiceChange,
  type ServiceStatus,
  serviceStart,
  serviceStatus,
  serviceStop,
} from '../../apply/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { profileForInstall } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';
import { ownedInstall, resolveInstall } from './install-arg.ts';

interface ServiceOptions {
  install: string;
  profile?: string;
}

/** `uplift service status`: exit 5 when a run waits for `uplift resume`, else 0 (stopped too). */
export async function status(opts: ServiceOptions): Promise<CommandResult> {
  const install = await resolveInstall(opts.install, true);
  const { profile, warnings } = await profileForInstall(install, opts.profile);
  const s = await serviceStatus(install, profile);
  return {
    data: { ...s, warnings },
    text: renderStatus(s),
    exitCode: s.interrupted ? ExitCode.incomplete : ExitCode.ok,
    warnings,
  };
}

/** `uplift service stop`. */
export async function stop(
  opts: ServiceOptions,
  io: { stderr: (s: string) => void },
): Promise<CommandResult> {
  const { install, progress } = await ownedInstall(opts.install, io);
  const { profile, warnings } = await profileForInstall(install, opts.profile);
  const r = await serviceStop(install, profile, progress);
  return { data: { ...r, warnings }, text: renderChange(r), exitCode: ExitCode.ok, warnings };
}

/** `uplift service start`. */
export async function start(
  opts: ServiceOptions,
  io: { stderr: (s: string) => void },
): Promise<CommandResult> {
  const { install, progress } = await ownedInstall(opts.install, io);
  const { profile, warnings } = await profileForInstall(install, opts.profile);
  const r = await serviceStart(install, profile, progress);
  return { data: { ...r, warnings }, text: renderChange(r), exitCode: ExitCode.ok, warnings };
}

function renderStatus(s: ServiceStatus): string {
  const lines = [
    `${s.install}: ${s.profile.name} ${s.version ?? '(version unreadable)'}, ${
      s.running.length > 0 ? `running (pid ${s.running.map((p) => p.pid).join(', ')})` : 'stopped'
    }, ${s.ready ? 'ready' : `not ready${s.notReady ? ` (${s.notReady})` : ''}`}`,
  ];
  if (s.interrupted)
    lines.push(`  a run was interrupted: uplift resume --install ${s.install} finishes it`);
  if (s.lock)
    lines.push(
      `  lock: ${s.lock.command ?? 'uplift'} pid ${s.lock.pid} since ${s.lock.startedAt}${s.lock.stale ? ` (stale: ${s.lock.stale})` : ''}`,
    );
  return `${lines.join('\n')}\n`;
}

function renderChange(r: ServiceChange): string {
  if (!r.changed)
    return r.action === 'stop'
      ? `${r.install}: no service runs; nothing to stop.\n`
      : `${r.install}: every service runs and is ready; nothing to start.\n`;
  return r.action === 'stop'
    ? `Stopped ${r.install} (pid ${(r.stopped ?? []).join(', ')}) in ${r.seconds} s.\n`
    : `Started ${r.install} at ${r.version}: ready in ${r.seconds} s (pid ${r.running.map((p) => p.pid).join(', ')}).\n`;
}
