import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** One entry of a directory tree as tests compare it. */
export interface TreeRecord {
  /** Relative POSIX path; `.` is the root. */
  path: string;
  type: 'directory' | 'file' | 'symlink' | 'other';
  /** Permission bits including setuid/setgid/sticky; absent for symlinks (Linux ignores them). */
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  sha256?: string;
  /** Symlink target, never resolved. */
  target?: string;
}

export interface TreeHash {
  /** SHA-256 over every record, in path order: equal hashes mean equal trees. */
  hash: string;
  records: TreeRecord[];
}

export interface TreeHashOptions {
  /** Include uid/gid (default true). */
  owners?: boolean;
  /** Leave out paths for which this returns true (and everything under them). */
  ignore?: (path: string) => boolean;
}

/**
 * Hashes a tree the way the crash-safety tests need: content, mode, symlink targets and (by
 * default) owners of every entry, including the root, never following a symlink. Independent of
 * the code under test on purpose. Assert on `records` to get a readable diff, on `hash` for speed.
 */
export async function hashTree(root: string, opts: TreeHashOptions = {}): Promise<TreeHash> {
  const owners = opts.owners ?? true;
  const records: TreeRecord[] = [];
  const visit = async (rel: string): Promise<void> => {
    const abs = rel === '.' ? root : join(root, rel);
    const st = await lstat(abs);
    const rec: TreeRecord = { path: rel, type: 'other' };
    if (owners) {
      rec.uid = st.uid;
      rec.gid = st.gid;
    }
    if (st.isSymbolicLink()) {
      rec.type = 'symlink';
      rec.target = await readlink(abs);
    } else {
      rec.mode = st.mode & 0o7777;
      if (st.isFile()) {
        rec.type = 'file';
        const data = await readFile(abs);
        rec.size = data.length;
        rec.sha256 = createHash('sha256').update(data).digest('hex');
      } else if (st.isDirectory()) rec.type = 'directory';
    }
    records.push(rec);
    if (rec.type !== 'directory') return;
    const names = (await readdir(abs)).sort();
    for (const name of names) {
      const child = rel === '.' ? name : `${rel}/${name}`;
      if (!opts.ignore?.(child)) await visit(child);
    }
  };
  await visit('.');
  const hash = createHash('sha256');
  for (const r of records) hash.update(`${JSON.stringify(r)}\n`);
  return { hash: hash.digest('hex'), records };
}
