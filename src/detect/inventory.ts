import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** One entry of an installation, as the walk found it. Paths are `/`-separated and relative. */
export interface InventoryEntry {
  path: string;
  kind: 'file' | 'symlink' | 'other';
  size: number;
  /** Permission bits (`0o755`), without the file type. */
  mode: number;
  uid: number;
}

export interface Inventory {
  /** Every entry except folders, sorted by path. */
  entries: InventoryEntry[];
  /** Folders and files the walk could not read, sorted. */
  unreadable: string[];
}

/**
 * Walks an installation once; every measure and the customized-files comparison read the result.
 * Symlinks are listed, never followed, so a link to `/` cannot make detection walk the machine.
 * Unreadable folders are reported, not fatal: detection then says what it could not see.
 */
export async function walkInstallation(root: string): Promise<Inventory> {
  const entries: InventoryEntry[] = [];
  const unreadable: string[] = [];
  const limit = semaphore(32);

  const visit = async (rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await limit(() => readdir(rel === '' ? root : join(root, rel)));
    } catch {
      unreadable.push(rel === '' ? '.' : rel);
      return;
    }
    await Promise.all(
      names.map(async (name) => {
        const path = rel === '' ? name : `${rel}/${name}`;
        let st: Awaited<ReturnType<typeof lstat>>;
        try {
          st = await limit(() => lstat(join(root, path)));
        } catch {
          unreadable.push(path);
          return;
        }
        if (st.isDirectory()) return visit(path);
        entries.push({
          path,
          kind: st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other',
          size: Number(st.size),
          mode: Number(st.mode) & 0o7777,
          uid: Number(st.uid),
        });
      }),
    );
  };

  await visit('');
  entries.sort((a, b) => compareText(a.path, b.path));
  unreadable.sort(compareText);
  return { entries, unreadable };
}

/** True when `path` is `folder` itself or inside it (`.` is the whole installation). */
export function isUnder(path: string, folder: string): boolean {
  return folder === '.' || path === folder || path.startsWith(`${folder}/`);
}

/** Code-unit order, the same on every machine and locale (facts must be deterministic). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Runs at most `n` of the given tasks at once; the walk keeps disk queues busy, not fds exhausted. */
function semaphore(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // A finishing task hands its slot straight to the next waiter, so `active` never exceeds n.
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
