import { existsSync } from 'node:fs';
import { readHistory, statePaths } from '../../apply/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { profileSummary, readOnlyProfile } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';
import { resolveInstall } from './install-arg.ts';

/** `uplift history`: what has run on an installation. */
export async function handler(opts: { install: string; profile?: string }): Promise<CommandResult> {
  const install = await resolveInstall(opts.install);
  const { chosen, warnings } = await readOnlyProfile(install, opts.profile);
  // A hop's backup may have been pruned since (src/apply/prune.ts): say whether it is still there.
  const runs = (await readHistory(statePaths(install), (w) => warnings.push(w))).map((r) => ({
    ...r,
    hops: r.hops.map((h) => (h.backup ? { ...h, backupKept: existsSync(h.backup) } : h)),
  }));
  const lines = runs.length === 0 ? [`No runs on ${install} yet.`] : [];
  for (const r of runs) {
    const err = r.error ? ` — ${r.error.code}` : '';
    lines.push(
      `${r.endedAt}  ${r.runId}  ${r.kind.padEnd(8)} ${r.from} → ${r.to}  ${r.outcome}${r.resumed ? ' (resumed)' : ''}${err}`,
    );
    for (const h of r.hops)
      lines.push(
        `    hop ${h.hop}: ${h.from} → ${h.to} ${h.outcome}${h.failedStep ? ` at ${h.failedStep}` : ''}${h.downtimeSeconds !== undefined ? `, downtime ${h.downtimeSeconds} s` : ''}${'backupKept' in h ? (h.backupKept ? `, backup ${h.backup}` : ', backup pruned') : ''}`,
      );
  }
  return {
    data: { install, profile: profileSummary(chosen), runs, warnings },
    text: `${lines.join('\n')}\n`,
    exitCode: ExitCode.ok,
    warnings,
  };
}
