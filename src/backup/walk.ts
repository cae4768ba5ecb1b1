import type { Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import type { BackupTotals, EntryType } from './types.ts';

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

function decodeName(raw: Buffer, where: string, bad: string[]): string | undefined {
  try {
    return strictUtf8.decode(raw);
  } catch {
    bad.push(`${where}/${raw.toString('latin1')}: the name is not valid UTF-8`);
    return undefined;
  }
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isCharacterDevice()) return 'a character device';
  return 'of an unknown type';
}

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

  const add = async (rel: string, abs: string, st: Stats): Promise<boolean> => {
    let type: EntryType;
    let target: string | undefined;
    if (st.isDirectory()) type = 'directory';
    else if (st.isSymbolicLink()) {
      type = 'symlink';
      target = decodeName(await readlink(abs, { encoding: 'buffer' }), rel, unsupported);
      if (target === undefined) return false;
    } else if (st.isFile()) type = 'file';
    else {
      unsupported.push(`${rel} is ${kindOf(st)}`);
      return false;
    }
    const reason = rel === '.' ? undefined : exclude(rel, type);
    if (reason) {
      excluded.push({ path: rel, reason });
      return false;
    }
    if (type === 'file' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = inodes.get(key);
      if (first === undefined) inodes.set(key, rel);
      else {
        type = 'hardlink';
        target = first;
      }
    }
    entries.push({ path: rel, abs, type, stats: st, target });
    countEntry(planned, type, st.size);
    return type === 'directory';
  };

  const visit = async (rel: string, abs: string): Promise<void> => {
    let raw: Buffer[];
    try {
      raw = await readdir(abs, { encoding: 'buffer' });
    } catch (err) {
      throw readFailed(rel, err);
    }
    const names: string[] = [];
    for (const r of raw) {
      const name = decodeName(r, rel, unsupported);
      if (name !== undefined) names.push(name);
    }
    names.sort();
    const children = names.map((name) => ({
      rel: rel === '.' ? name : `${rel}/${name}`,
      abs: join(abs, name),
    }));
    // lstat in parallel: on a 20,000-file tree the walk is otherwise a queue of tiny round trips.
    const stats = await Promise.all(
      children.map((c) =>
        lstat(c.abs).catch((err: unknown) => {
          throw readFailed(c.rel, err);
        }),
      ),
    );
    for (const [i, c] of children.entries()) {
      if (await add(c.rel, c.abs, stats[i] as Stats)) await visit(c.rel, c.abs);
    }
  };

  await add(
    '.',
    root,
    await lstat(root).catch((err: unknown) => {
      throw readFailed('.', err);
    }),
  );
  await visit('.', root);

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
    },
  );
}
