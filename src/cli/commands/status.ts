import { readStatus } from '../../apply/index.ts';
import { installedVersion } from '../../detect/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { profileSummary, readOnlyProfile } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';
import { resolveInstall } from './install-arg.ts';

/** `uplift status`: where a run stands. Exit 5 when a crashed run waits for `uplift resume`. */
export async function handler(opts: { install: string; profile?: string }): Promise<CommandResult> {
  const install = await resolveInstall(opts.install, true);
  const { chosen, warnings } = await readOnlyProfile(install, opts.profile);
  const s = await readStatus(install);
  warnings.push(...s.warnings);
  // The installed version as detection reads it (null: no profile, or a switch cut it short).
  const version = chosen
    ? ((await installedVersion(chosen.profile, install).catch(() => undefined)) ?? null)
    : null;
  const lines = [`${install}: ${s.state}${version ? ` at ${version}` : ''}`];
  if (chosen)
    lines.push(`  profile ${chosen.profile.manifest.name} (${chosen.from}): ${chosen.profile.dir}`);
  if (s.run) {
    lines.push(
      `  run ${s.run.runId} (${s.run.kind}) ${s.run.from} → ${s.run.to}; hop ${s.run.hop}${s.run.hopTo ? ` to ${s.run.hopTo}` : ''}, last step ${s.run.step} ${s.run.stepState} at ${s.run.at}`,
    );
    if (s.state === 'interrupted') {
      const then =
        s.run.resumeThen === 'finish'
          ? `, then finish the run to ${s.run.resumeTo}`
          : s.run.resumeThen === 'abort'
            ? `, then finish taking the run back to ${s.run.resumeTo}`
            : s.run.resumeTo
              ? `; the installation stays at ${s.run.resumeTo}`
              : '';
      lines.push(`  uplift resume would: ${s.run.resumeWould}${then}`);
      if (s.run.abortTo && s.run.resumeThen !== 'abort')
        lines.push(`  uplift resume --abort would take it back to ${s.run.abortTo}`);
    }
  }
  if (s.lock)
    lines.push(
      `  lock: pid ${s.lock.pid} since ${s.lock.startedAt}${s.lock.stale ? ` (stale: ${s.lock.stale})` : ''}`,
    );
  if (s.ignoredTail) lines.push(`  the journal ends with ${s.ignoredTail} (ignored)`);
  if (s.last)
    lines.push(
      `  last finished: ${s.last.kind} ${s.last.from} → ${s.last.to}, ${s.last.outcome} at ${s.last.endedAt}`,
    );
  for (const k of s.kept) lines.push(`  kept: ${k}`);
  return {
    data: { ...s, version, profile: profileSummary(chosen), warnings },
    warnings,
    text: `${lines.join('\n')}\n`,
    exitCode: s.state === 'interrupted' ? ExitCode.incomplete : ExitCode.ok,
  };
}
