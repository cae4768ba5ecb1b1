import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A change inside the same tick of the filesystem's coarse clock as the stat we recorded leaves
 * every timestamp as it was ("racily clean", as git calls it). An entry whose ctime was this close
 * to the listing, or later, is never trusted to be unchanged: it is compared by content again
 * (copies re-copied, directories re-read).
 */
export const racyMarginMs = 2000;

export async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }))
    h.update(chunk as Buffer);
  return h.digest('hex');
}

export function sha256Of(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** A vendor manifest: the release tree's manifest.json that an installation keeps a copy of. */
export interface VendorManifest {
  product: string;
  version: string;
  files: VendorFile[];
}

export interface VendorFile {
  path: string;
  size: number;
  mode: number;
  sha256: string;
}

export interface WalkEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  ino: number;
}

/** Every entry under `root`, parents before children, sorted by name; never follows a symlink. */
export async function walk(root: string): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  const visit = async (rel: string) => {
    const names = (await readdir(rel === '' ? root : join(root, rel))).sort();
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(join(root, path));
      const type = st.isFile()
        ? 'file'
        : st.isDirectory()
          ? 'directory'
          : st.isSymbolicLink()
            ? 'symlink'
            : 'other';
      out.push({
        path,
        type,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        size: st.size,
        mtimeMs: st.mtimeMs,
        ino: st.ino,
      });
      if (type === 'directory') await visit(path);
    }
  };
  await visit('');
  return out;
}

/** Matches `dir/**` (everything under dir) and exact paths. */
export function matchesAny(path: string, globs: readonly string[]): boolean {
  return globs.some((g) =>
    g.endsWith('/**') ? path === g.slice(0, -3) || path.startsWith(g.slice(0, -2)) : path === g,
  );
}
