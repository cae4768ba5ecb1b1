import { resolve } from 'node:path';
import type { ServiceControl } from '../../backup/index.ts';
import {
  type BackupResult,
  createBackup,
  type ProgressListener,
  progressPrinter,
  type VerifyResult,
  verifyBackup,
} from '../../backup/index.ts';
import { ExitCode, UpliftError } from '../../errors/index.ts';
import type { Profile } from '../../profile/index.ts';
import { formatBytes } from '../../util/index.ts';
import type { CommandResult } from '../types.ts';

export interface BackupCommandOptions {
  install?: string;
  /** The installation's profile (default: the recorded one, else the one that recognises it). */
  profile?: string;
  out?: string;
  verify?: string;
  stop?: boolean;
  keepStopped?: boolean;
  level?: string;
  /** true: always show progress; false: never; undefined: when standard error is a terminal. */
  progress?: boolean;
}

/** Where progress goes: standard error, so `--json` output on standard output stays parseable. */
export interface ProgressIo {
  stderr: (s: string) => void;
  stderrIsTty: boolean;
}

export function progressFor(
  show: boolean | undefined,
  io: ProgressIo,
): ProgressListener | undefined {
  if (show === false || (show === undefined && !io.stderrIsTty)) return undefined;
  return progressPrinter(io.stderr, io.stderrIsTty);
}

/** `uplift backup --install DIR` writes a backup; `uplift backup --verify FILE` checks one. */
export async function handler(opts: BackupCommandOptions, io: ProgressIo): Promise<CommandResult> {
  if ((opts.install === undefined) === (opts.verify === undefined))
    throw new UpliftError(
      'UPLIFT_USAGE',
      'pass either --install DIR (make a backup) or --verify FILE (check one)',
      {
        hint: 'Back up an installation (its folder as --install), or check a backup (--verify and its file):\nuplift backup --help',
      },
    );
  const onProgress = progressFor(opts.progress, io);
  if (opts.verify !== undefined) {
    const r = await verifyBackup(opts.verify, onProgress);
    return { data: r, text: renderVerify(r), exitCode: ExitCode.ok };
  }
  const level = opts.level === undefined ? undefined : levelOf(opts.level);
  // Backs up any folder. The profile (--profile, the one recorded beside the installation, else
  // the one that recognises it) tells whether its services run (an online backup leaves their
  // pid files out), stops and starts them, and names the version.
  const { chosen, warnings } = await (await import('../profile-arg.ts'))
    .installProfileWarnings(opts.install as string, opts.profile, true)
    .catch((err: unknown) => {
      if (opts.profile !== undefined || opts.stop) throw err;
      return { chosen: undefined, warnings: [] as string[] };
    });
  const service = chosen ? await serviceOf(chosen.profile, opts.install as string) : {};
  const r = await createBackup({
    install: opts.install as string,
    out: opts.out,
    stop: opts.stop,
    keepStopped: opts.keepStopped,
    level,
    onProgress,
    ...service,
  });
  return { data: r, text: renderBackup(r), exitCode: ExitCode.ok, warnings };
}

/** Files, directories and links of a backup, in the same words wherever a count is shown. */
export function counts(t: BackupResult['totals']): string {
  const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  const parts = [n(t.files, 'file', 'files'), n(t.directories, 'directory', 'directories')];
  if (t.symlinks) parts.push(n(t.symlinks, 'symlink', 'symlinks'));
  if (t.hardlinks) parts.push(n(t.hardlinks, 'hard link', 'hard links'));
  return parts.join(', ');
}

function renderBackup(r: BackupResult): string {
  const version = r.productVersion ? ` (version ${r.productVersion})` : '';
  const rate =
    r.seconds > 0 ? `, ${(r.totals.bytes / 1_048_576 / r.seconds).toFixed(0)} MiB/s` : '';
  const lines = [
    `Backed up ${r.installation}${version}`,
    `  to       ${r.file}`,
    `  content  ${counts(r.totals)}; ${formatBytes(r.totals.bytes)} → ${formatBytes(r.archiveBytes)} in ${r.seconds} s${rate}`,
    `  state    ${r.consistency.mode}: ${r.consistency.how}`,
  ];
  if (r.consistency.excluded.length > 0)
    lines.push(
      `  left out ${r.consistency.excluded.map((e) => `${e.path} (${e.reason})`).join('; ')}`,
    );
  for (const b of r.behind)
    lines.push(
      `  behind   link ${b.path} -> ${b.target}: ${counts(b.totals)}, ${formatBytes(b.totals.bytes)} (declared data: backed up through)`,
    );
  if (r.service.stopped)
    lines.push(
      `  service  stopped for the backup${r.service.restarted ? ' and started again' : ', left stopped'}`,
    );
  lines.push(`  sha256   ${r.sha256}`);
  lines.push(`Check it any time with: uplift backup --verify ${r.file}`);
  return `${lines.join('\n')}\n`;
}

function renderVerify(r: VerifyResult): string {
  const version = r.productVersion ? ` (version ${r.productVersion})` : '';
  return [
    `OK ${r.file}: every entry matches the manifest`,
    `  backup of ${r.installation}${version}, taken ${r.created} (${r.consistency.mode})`,
    `  content   ${counts(r.totals)}; ${formatBytes(r.totals.bytes)} in ${formatBytes(r.archiveBytes)}`,
    ...r.behind.map(
      (b) =>
        `  behind    link ${b.path} -> ${b.target}: ${counts(b.totals)}, ${formatBytes(b.totals.bytes)}`,
    ),
    `  sha256    ${r.sha256} (${r.checksum === 'matched' ? 'matches the .sha256 file' : 'no .sha256 file beside it: content checked only'})`,
    '',
  ].join('\n');
}

/**
 * What backup and restore take from the installation's profile: its services, its version, what
 * it produces at run time and the customer's data (a data link is backed up and restored through).
 */
export async function serviceOf(
  profile: Profile,
  install: string,
): Promise<{
  service?: ServiceControl;
  productVersion?: string;
  generated?: readonly string[];
  data?: readonly string[];
}> {
  const [{ serviceControlOf }, { installedVersion }] = await Promise.all([
    import('../../apply/index.ts'),
    import('../../detect/index.ts'),
  ]);
  const dir = resolve(install);
  const productVersion = await installedVersion(profile, dir).catch(() => undefined);
  const service = await serviceControlOf(profile, dir, productVersion);
  return {
    ...(service ? { service } : {}),
    ...(productVersion ? { productVersion } : {}),
    generated: profile.manifest.paths?.generated ?? [],
    // The same globs that let a pack's migrations write through a link (src/apply/migrate.ts).
    data: [...(profile.manifest.paths?.data ?? []), ...(profile.manifest.paths?.databases ?? [])],
  };
}

/** `--level`: a gzip level, 1 to 9, written as digits. */
function levelOf(value: string): number {
  if (!/^[1-9]$/.test(value.trim()))
    throw new UpliftError(
      'UPLIFT_USAGE',
      `--level ${JSON.stringify(value)}: expected a gzip level from 1 to 9`,
      {
        hint: 'Give a number from 1 (fastest, the default) to 9 (smallest), e.g. --level 6.',
      },
    );
  return Number(value);
}
