import { rollbackLast } from '../../apply/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { profileSummary, recordedProfile } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';
import { ownedInstall } from './install-arg.ts';

/** `uplift rollback`: undoes the last committed upgrade. */
export async function handler(
  opts: { install: string; profile?: string; run?: boolean; wholeRun?: boolean; yes?: boolean },
  io: { stderr: (s: string) => void },
): Promise<CommandResult> {
  const { install, progress } = await ownedInstall(opts.install, io);
  const chosen = await recordedProfile(install, opts.profile);
  const warnings = chosen?.warnings ?? [];
  const r = await rollbackLast(install, progress, chosen?.profile, {
    wholeRun: opts.run === true || opts.wholeRun === true,
  });
  const kept = r.keptAs
    ? `\n  the rolled-back generation is kept at ${r.keptAs} (files uploaded since the upgrade are there)`
    : '';
  return {
    // The fields apply and resume print too: the run's from/to, the version now, the outcome.
    data: {
      outcome: 'rolled-back',
      from: r.undid.to,
      to: r.version,
      ...r,
      profile: profileSummary(chosen),
      warnings,
    },
    warnings,
    text: `Rolled back ${install} from ${r.undid.to} to ${r.version}${r.undid.hops ? ` (the whole run: ${r.undid.hops.length} hops)` : ''} (${r.method === 'backup' ? 'from the backup' : 'the kept old generation'}).${kept}\n`,
    exitCode: ExitCode.ok,
  };
}
