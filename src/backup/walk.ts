import type { Stats } from 'node:fs';
import { lstat, readlink, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import { kindOf, matchesAnyGlob, type WalkEntry as UtilWalkEntry, walk } from '../util/index.ts';
import type { BackupTotals, BehindLink, EntryType } from './types.ts';

/** One entry found by the walk; content, size and final metadata are read later, from the open file. */
export interface WalkedEntry {
  path: string;
  abs: string;
  type: EntryType;
  stats: Stats;
  /** Symlinks: the target. Hardlinks: the path of the first entry with the same inode. */
  target?: string;
}

export interface WalkResult {
  entries: WalkedEntry[];
  excluded: { path: string; reason: string }[];
  planned: BackupTotals;
}

/** Totals before the first entry. */
export function noTotals(): BackupTotals {
  return { entries: 0, files: 0, directories: 0, symlinks: 0, hardlinks: 0, bytes: 0 };
}

/** Counts one entry of `type` into `totals`; `bytes` (its content) counts for files only. */
export function countEntry(totals: BackupTotals, type: EntryType, bytes: number): void {
  totals.entries++;
  if (type === 'file') {
    totals.files++;
    totals.bytes += bytes;
  } else if (type === 'directory') totals.directories++;
  else if (type === 'symlink') totals.symlinks++;
  else totals.hardlinks++;
}

/** Decides whether to leave a path out; returns the reason, or undefined to keep it. */
export type ExcludeRule = (path: string, type: EntryType) => string | undefined;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Lists the installation in pre-order (a directory before its children, children sorted), never
 * following a symlink. Devices, FIFOs, sockets and names that are not UTF-8 are refused all
 * together, before anything is written, because a backup that silently skips them is not the tree.
 * Files with several links inside the tree are recorded once and then as hardlinks, so restore
 * recreates the links instead of copies.
 */
export async function walkInstallation(root: string, exclude: ExcludeRule): Promise<WalkResult> {
  const entries: WalkedEntry[] = [];
  const excluded: WalkResult['excluded'] = [];
  const unsupported: string[] = [];
  const inodes = new Map<string, string>();
  const planned = noTotals();

  const prune = (e: UtilWalkEntry): boolean => {
    // Devices, FIFOs and sockets are refused below, whatever the exclude rule says.
    if (e.type === 'other') return false;
    const reason = exclude(e.path, e.type);
    if (reason) excluded.push({ path: e.path, reason });
    return reason !== undefined;
  };
  const onError = (path: string, err: NodeJS.ErrnoException, op: string) => {
    if (op !== 'name') throw readFailed(path, err);
    unsupported.push(`${path}: the name is not valid UTF-8`);
  };
  for await (const e of walk(root, { includeRoot: true, prune, onError })) {
    const abs = e.path === '.' ? root : join(root, e.path);
    const st = e.stats;
    let type: EntryType;
    let target: string | undefined;
    if (e.type === 'other') {
      unsupported.push(`${e.path} is ${kindOf(st)}`);
      continue;
    }
    type = e.type;
    if (type === 'symlink') {
      const raw = await readlink(abs, { encoding: 'buffer' }).catch((err: unknown) => {
        throw readFailed(e.path, err);
      });
      try {
        target = strictUtf8.decode(raw);
      } catch {
        unsupported.push(`${e.path}: the link target is not valid UTF-8`);
        continue;
      }
    }
    if (type === 'file' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = inodes.get(key);
      if (first === undefined) inodes.set(key, e.path);
      else {
        type = 'hardlink';
        target = first;
      }
    }
    entries.push({ path: e.path, abs, type, stats: st, target });
    countEntry(planned, type, st.size);
  }

  if (unsupported.length > 0) {
    throw new UpliftError(
      'UPLIFT_BACKUP_UNSUPPORTED_ENTRY',
      `${root} holds ${unsupported.length} ${unsupported.length === 1 ? 'entry' : 'entries'} a backup cannot store: ${unsupported[0]}${unsupported.length > 1 ? ` (and ${unsupported.length - 1} more)` : ''}`,
      {
        hint: 'Move these out of the installation (services recreate their sockets and FIFOs at start), then run the backup again.',
        details: unsupported.map((message) => ({ message })),
      },
    );
  }
  return { entries, excluded, planned };
}

export function readFailed(rel: string, err: unknown): UpliftError {
  const e = err as NodeJS.ErrnoException;
  return new UpliftError(
    'UPLIFT_BACKUP_READ_FAILED',
    `could not read ${rel} from the installation: ${e.message}`,
    {
      cause: err,
      hint:
        e.code === 'EACCES' || e.code === 'EPERM'
          ? 'Run the backup as the installation owner or as root.'
          : 'Check the disk (EIO means the device failed to read), then run the backup again.',
      // A backup only reads the installation (createBackup says when it left the service stopped).
      unchanged: true,
    },
  );
}

/** A data link to back up through: the link, and the walk of what it points to. */
export interface BehindWalk {
  link: BehindLink;
  walk: WalkResult;
}

/** True when `path` is `dir` or lies below it (both absolute and resolved). */
export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep));
}

/**
 * The links of the installation that the profile declares as data (`data`, its `paths.data`
 * globs) and that lead outside it, each with a walk of what it points to (a folder, never
 * following a link inside it, or one file). A link whose target is inside the installation is
 * already in the tree; a dangling one is recorded as a link only (listed in `skipped`). A target
 * that holds the installation, or that lies in another data link's target, is refused: backing it
 * up would store the installation or the same files twice.
 */
export async function walkBehindLinks(
  install: string,
  entries: readonly WalkedEntry[],
  data: readonly string[],
): Promise<{ behind: BehindWalk[]; skipped: { path: string; reason: string }[] }> {
  const behind: BehindWalk[] = [];
  const skipped: { path: string; reason: string }[] = [];
  if (data.length === 0) return { behind, skipped };
  for (const e of entries) {
    if (e.type !== 'symlink' || !matchesAnyGlob(data, e.path)) continue;
    const target = e.target as string;
    let resolved: string;
    try {
      resolved = await realpath(e.abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw readFailed(e.path, err);
      skipped.push({
        path: e.path,
        reason: `data link to ${target}, which does not exist: only the link is backed up`,
      });
      continue;
    }
    if (isInside(resolved, install)) continue;
    const same = behind.find((b) => b.link.resolved === resolved);
    if (same) {
      skipped.push({
        path: e.path,
        reason: `data link to ${resolved}, already backed up through ${same.link.path}`,
      });
      continue;
    }
    const clash = isInside(install, resolved)
      ? 'holds the installation'
      : behind.find(
            (b) => isInside(resolved, b.link.resolved) || isInside(b.link.resolved, resolved),
          )
        ? 'overlaps the target of another data link'
        : undefined;
    if (clash)
      throw new UpliftError(
        'UPLIFT_BACKUP_UNSUPPORTED_ENTRY',
        `the data link ${e.path} points to ${resolved}, which ${clash}`,
        {
          hint: "Point the link at a folder of its own, or leave it out of the profile's paths.data.",
          unchanged: true,
        },
      );
    const st = await lstat(resolved).catch((err: unknown) => {
      throw readFailed(e.path, err);
    });
    const walked = st.isDirectory()
      ? await walkInstallation(resolved, () => undefined)
      : await walkTargetFile(e.path, resolved, st);
    behind.push({
      link: { path: e.path, target, resolved, planned: walked.planned },
      walk: walked,
    });
  }
  return { behind, skipped };
}

async function walkTargetFile(link: string, abs: string, st: Stats): Promise<WalkResult> {
  if (!st.isFile())
    throw new UpliftError(
      'UPLIFT_BACKUP_UNSUPPORTED_ENTRY',
      `the data link ${link} points to ${abs}, which is ${kindOf(st)}`,
      {
        hint: "Leave the link out of the profile's paths.data: a backup holds only files, folders and links.",
      },
    );
  const planned = noTotals();
  countEntry(planned, 'file', st.size);
  return { entries: [{ path: '.', abs, type: 'file', stats: st }], excluded: [], planned };
}
