import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type BackupInfo, readBackupInfo } from '../../backup/index.ts';
import { shellWord, UpliftError } from '../../errors/index.ts';
import { formatBytes, walk } from '../../util/index.ts';
import { fail, pass, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult } from '../types.ts';

export const id = 'backup';

/**
 * What changes all the time while the product runs (logs, the database, uploads: the profile's
 * `detection.ignore`, `paths.data` and `paths.generated`) does not count. A backup is current
 * when it is newer than the last change of the rest: the version, the code and the
 * configuration, which is what an upgrade replaces.
 */

/** What reading a backup's header says of it. */
type Readout =
  | { kind: 'uplift'; info: BackupInfo }
  /** A tar.gz that another tool wrote: uplift can only go by its modification time. */
  | { kind: 'other' }
  | { kind: 'damaged'; why: string };

async function run(ctx: CheckContext): Promise<CheckResult> {
  const dir = dirname(ctx.install);
  const prefix = `${basename(ctx.install)}-backup-`;
  const pattern = join(dir, `${prefix}*.tar.gz`);
  const names = (await readdir(dir).catch(() => [] as string[])).filter(
    (n) => n.startsWith(prefix) && n.endsWith('.tar.gz'),
  );
  const backups = (
    await Promise.all(
      names.map(async (name) => {
        const s = await stat(join(dir, name)).catch(() => undefined);
        return s?.isFile() ? { file: join(dir, name), size: s.size, mtime: s.mtime } : undefined;
      }),
    )
  )
    .filter((b) => b !== undefined)
    .sort((a, b) => b.mtime.getTime() - a.mtime.getTime());
  const newest = backups[0];
  const remedy = `back up the installation right before the upgrade:\nuplift backup --install ${shellWord(ctx.install)}${ctx.profile.backupNeedsStop ? ' --stop' : ''}`;
  if (newest === undefined) {
    return warn(`no backup of the installation found (looked for ${pattern})`, remedy, { pattern });
  }
  const readout = await readBackup(newest.file, newest.size);
  if (readout.kind === 'damaged') {
    // Worse than no backup: the operator believes the upgrade can be undone from it.
    return fail(
      `the newest backup ${basename(newest.file)} ${readout.why}: a restore from it would fail`,
      `delete ${newest.file}, then ${remedy}`,
      { pattern, backup: { file: newest.file, size: newest.size }, damage: readout.why },
    );
  }
  const info = readout.kind === 'uplift' ? readout.info : undefined;
  const madeAt = info === undefined ? newest.mtime : new Date(info.created);
  const last = await lastChange(ctx.install, ctx.profile.alwaysChanging ?? []);
  const details = {
    pattern,
    backup: {
      file: newest.file,
      size: newest.size,
      madeAt: madeAt.toISOString(),
      writtenBy: info === undefined ? 'another tool' : 'uplift',
      ...(info === undefined ? {} : { consistency: info.consistency.mode }),
    },
    lastChange: last && { file: last.file, at: last.mtime.toISOString() },
  };
  const made = `${basename(newest.file)} (${formatBytes(newest.size)}, ${madeAt.toISOString()})`;
  if (last !== undefined && madeAt.getTime() < last.mtime.getTime()) {
    return warn(
      `the newest backup ${made} is older than the installation's last change (${last.file}, ${last.mtime.toISOString()})`,
      remedy,
      details,
    );
  }
  if (info?.consistency.mode === 'online' && ctx.profile.backupNeedsStop) {
    return warn(
      `the newest backup ${made} was taken while the service ran, and ${ctx.profile.product} must be backed up with every service stopped`,
      remedy,
      details,
    );
  }
  return pass(`backup ${made} is newer than the installation's last change`, details);
}

/**
 * Reads what a backup is from its first bytes and, for an uplift backup, its header; a whole
 * verification (`uplift backup --verify`) would read every byte and is left to the operator.
 */
async function readBackup(file: string, size: number): Promise<Readout> {
  if (size === 0) return { kind: 'damaged', why: 'is empty' };
  const head = Buffer.alloc(2);
  const handle = await open(file, 'r').catch(() => undefined);
  if (handle === undefined) return { kind: 'damaged', why: 'cannot be read' };
  try {
    await handle.read(head, 0, 2, 0);
  } finally {
    await handle.close();
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) return { kind: 'damaged', why: 'is not a gzip file' };
  try {
    return { kind: 'uplift', info: await readBackupInfo(file) };
  } catch (e) {
    if (!(e instanceof UpliftError)) throw e;
    if (e.code === 'UPLIFT_BACKUP_NOT_A_BACKUP') return { kind: 'other' };
    if (
      e.code === 'UPLIFT_BACKUP_TRUNCATED' ||
      e.code === 'UPLIFT_BACKUP_CORRUPT' ||
      e.code === 'UPLIFT_BACKUP_READ_FAILED'
    ) {
      return { kind: 'damaged', why: `is damaged (${e.code})` };
    }
    throw e;
  }
}

async function lastChange(
  install: string,
  skip: readonly string[],
): Promise<{ file: string; mtime: Date } | undefined> {
  let last: { file: string; mtime: Date } | undefined;
  // Unreadable folders are passed over: the check reports what it could see.
  for await (const e of walk(install, { skip, onError: () => {} })) {
    if (e.type !== 'file') continue;
    if (last === undefined || e.stats.mtime > last.mtime)
      last = { file: e.path, mtime: e.stats.mtime };
  }
  return last;
}

export const api: Check = { id, title: 'A backup newer than the installation', run };
