import { type ResumeResult, resumeRun } from '../../apply/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { profileSummary, recordedProfile } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';
import { ownedInstall } from './install-arg.ts';

/** `uplift resume`: finishes or undoes the run a crash left. */
export async function handler(
  opts: { install: string; profile?: string },
  io: { stderr: (s: string) => void },
): Promise<CommandResult> {
  const { install, progress } = await ownedInstall(opts.install, io);
  const chosen = await recordedProfile(install, opts.profile);
  const warnings = chosen?.warnings ?? [];
  const r = await resumeRun(install, progress, chosen?.profile);
  return {
    data: { ...r, profile: profileSummary(chosen), warnings },
    text: render(r),
    exitCode: ExitCode.ok,
    warnings,
  };
}

function render(r: ResumeResult): string {
  if (r.action === 'none') return `No interrupted run on ${r.install}: nothing to resume.\n`;
  const at = r.interruptedAt
    ? ` (it stopped at hop ${r.interruptedAt.hop}, ${r.interruptedAt.step} ${r.interruptedAt.state})`
    : '';
  const lines = [
    `Resumed run ${r.runId} on ${r.install}${at}: ${r.action}; the installation is at ${r.version} (${r.outcome}).`,
  ];
  if (r.ignoredTail) lines.push(`  ignored ${r.ignoredTail} in the journal`);
  if (r.recoveredLock) lines.push(`  recovered the crashed run's lock (${r.recoveredLock})`);
  if (r.notRun && r.notRun.length > 0 && r.runTo)
    lines.push(
      `  the run was going to ${r.runTo}; ${r.notRun.length} of its hops did not go in (${r.notRun.map((h) => `${h.from} → ${h.to}`).join(', ')}).`,
      `  To carry on: uplift apply --install ${r.install} --to "${r.runTo}"`,
    );
  return `${lines.join('\n')}\n`;
}
