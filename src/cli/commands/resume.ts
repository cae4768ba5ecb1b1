import { type ResumeResult, resumeRun } from '../../apply/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { profileSummary, recordedProfile } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';
import { ownedInstall } from './install-arg.ts';

/** `uplift resume`: finishes the run a crash left, or (`--abort`) takes it back to where it started. */
export async function handler(
  opts: { install: string; profile?: string; abort?: boolean },
  io: { stderr: (s: string) => void },
): Promise<CommandResult> {
  const { install, progress } = await ownedInstall(opts.install, io);
  const chosen = await recordedProfile(install, opts.profile);
  const warnings = chosen?.warnings ?? [];
  const r = await resumeRun(install, {
    onEvent: progress,
    ...(chosen?.profile ? { profile: chosen.profile } : {}),
    ...(opts.abort ? { abort: true } : {}),
  });
  return {
    // The fields apply and rollback print too: the run's from/to, the version now, the outcome
    // (`none` when there was no run to end).
    data: {
      outcome: r.outcome ?? 'none',
      ...(r.runFrom !== undefined ? { from: r.runFrom } : {}),
      ...(r.runTo !== undefined ? { to: r.runTo } : {}),
      ...r,
      profile: profileSummary(chosen),
      warnings,
    },
    text: render(r),
    exitCode: ExitCode.ok,
    warnings,
  };
}

function render(r: ResumeResult): string {
  if (r.action === 'none')
    return `No interrupted run on ${r.install}: nothing to resume.${r.swept?.length ? ` Removed what killed commands left: ${r.swept.join(', ')}.` : ''}\n`;
  const at = r.interruptedAt
    ? ` (it stopped at hop ${r.interruptedAt.hop}, ${r.interruptedAt.step} ${r.interruptedAt.state})`
    : '';
  const did =
    r.mode === 'finish'
      ? `finished it to ${r.runTo}`
      : r.mode === 'abort'
        ? `took it back to ${r.runFrom}`
        : r.action;
  const service = r.service ? `; the service is ${r.service} as before the run` : '';
  const lines = [
    `Resumed run ${r.runId} on ${r.install}${at}: ${did}; the installation is at ${r.version} (${r.outcome})${service}.`,
  ];
  if (r.swept?.length) lines.push(`  removed what killed commands left: ${r.swept.join(', ')}`);
  if (r.leftovers)
    lines.push(
      `  waited for what the interrupted run left running (pid ${r.leftovers.waited.join(', ')})${r.leftovers.killed.length ? `; killed pid ${r.leftovers.killed.join(', ')} after its timeout` : ''}`,
    );
  if (r.ignoredTail) lines.push(`  ignored ${r.ignoredTail} in the journal`);
  if (r.recoveredLock) lines.push(`  recovered the crashed run's lock (${r.recoveredLock})`);
  if (r.mode === 'stop' && r.notRun && r.notRun.length > 0 && r.runTo)
    lines.push(
      `  the run was going to ${r.runTo}; ${r.notRun.length} of its hops did not go in (${r.notRun.map((h) => `${h.from} → ${h.to}`).join(', ')}).`,
      `  To carry on: uplift apply --install ${r.install} --to "${r.runTo}"`,
    );
  return `${lines.join('\n')}\n`;
}
