import { compareText, walk } from '../util/index.ts';

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
 * Walks an installation once (src/util/walk.ts); every measure and the customized-files comparison
 * read the result. Unreadable folders are reported, not fatal: detection then says what it could
 * not see. An entry gone between listing and stat (a rotated log) is no longer part of it.
 */
export async function walkInstallation(root: string): Promise<Inventory> {
  const entries: InventoryEntry[] = [];
  const unreadable: string[] = [];
  const onError = (path: string, err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') unreadable.push(path);
  };
  for await (const e of walk(root, { onError })) {
    if (e.type === 'directory') continue;
    entries.push({
      path: e.path,
      kind: e.type === 'file' || e.type === 'symlink' ? e.type : 'other',
      size: e.size,
      mode: e.mode,
      uid: e.uid,
    });
  }
  entries.sort((a, b) => compareText(a.path, b.path));
  unreadable.sort(compareText);
  return { entries, unreadable };
}

/** True when `path` is `folder` itself or inside it (`.` is the whole installation). */
export function isUnder(path: string, folder: string): boolean {
  return folder === '.' || path === folder || path.startsWith(`${folder}/`);
}
