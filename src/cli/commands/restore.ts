import { type RestoreResult, restoreBackup } from '../../backup/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { formatBytes } from '../../util/index.ts';
import type { CommandResult } from '../types.ts';
import { counts, type ProgressIo, progressFor, serviceOf } from './backup.ts';

export interface RestoreCommandOptions {
  install: string;
  /** The installation's profile (default: the one recorded beside it). */
  profile?: string;
  stop?: boolean;
  start?: boolean;
  progress?: boolean;
}

/** `uplift restore BACKUP --install DIR`: bring the installation back to exactly the backed-up tree. */
export async function handler(
  backup: string,
  opts: RestoreCommandOptions,
  io: ProgressIo,
): Promise<CommandResult> {
  // The profile tells whether the service runs (a running one is refused without --stop), and
  // how to stop and start it (see backup.ts).
  const { chosen, warnings } = await (await import('../profile-arg.ts'))
    .installProfileWarnings(opts.install, opts.profile, true)
    .catch((err: unknown) => {
      if (opts.profile !== undefined || opts.stop || opts.start) throw err;
      return { chosen: undefined, warnings: [] as string[] };
    });
  const { service, data } = chosen ? await serviceOf(chosen.profile, opts.install) : {};
  const r = await restoreBackup({
    backup,
    install: opts.install,
    stop: opts.stop,
    start: opts.start,
    onProgress: progressFor(opts.progress, io),
    ...(service ? { service } : {}),
    ...(data ? { data } : {}),
  });
  return { data: r, text: render(r), exitCode: ExitCode.ok, warnings };
}

const recoveries: Record<RestoreResult['recovered'], string> = {
  none: '',
  'discarded-staging':
    'an earlier restore had been interrupted before its swap; its staging tree was discarded',
  staged:
    'an earlier restore of this backup had been interrupted just before its swap; its verified staging tree was used',
  'rolled-forward':
    'an earlier restore had been interrupted in the middle of its swap; the swap was finished',
  'cleaned-up': 'an earlier restore had finished its swap; its leftovers were removed',
};

function render(r: RestoreResult): string {
  const version = r.productVersion ? ` (version ${r.productVersion})` : '';
  const lines = [
    r.finishedInterrupted
      ? `Finished the interrupted restore of ${r.install}${version} from ${r.backup}`
      : `Restored ${r.install}${version} from ${r.backup}`,
  ];
  if (r.recovered !== 'none') lines.push(`  note     ${recoveries[r.recovered]}`);
  lines.push(
    `  content  ${counts(r.totals)}; ${formatBytes(r.totals.bytes)}; backup taken ${r.consistency.mode}`,
  );
  for (const b of r.behind)
    lines.push(
      b.restored
        ? `  behind   link ${b.path} -> ${b.target}: restored what the backup held behind it`
        : `  behind   link ${b.path} -> ${b.target}: not restored, ${b.reason}`,
    );
  if (!r.ownersRestored)
    lines.push(
      `  owners   not restored: ${r.ownersNotRestored} entries belong to other users in the backup; run as root to restore them`,
    );
  if (r.service.stopped) lines.push('  service  stopped before the swap');
  if (r.service.started)
    lines.push(
      `  service  started${r.service.pids.length > 0 ? ` (pid ${r.service.pids.join(', ')})` : ''}`,
    );
  if (!r.finishedInterrupted) lines.push(`  took     ${r.seconds} s`);
  return `${lines.join('\n')}\n`;
}
