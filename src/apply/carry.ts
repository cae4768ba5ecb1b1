import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fsyncSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmdirSync,
  type Stats,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { lchown, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { matchesAnyGlob } from '../util/index.ts';
import { lstatOr, racyMarginMs } from './tree.ts';

export interface CarryOptions {
  install: string;
  tree: string;
  /** Vendor paths of the old and the new version: never carried (staging decided them). */
  vendorPaths: ReadonlySet<string>;
  vendorManifestPath: string;
  /** Files only ever replaced by new file + rename: hard-linked. Everything else is copied. */
  linkGlobs: readonly string[];
  /**
   * Files and links produced at run time (the profile's `paths.generated`: pid files, caches):
   * not carried into the new version. Their directories are, so the new version finds them.
   */
  dropGlobs?: readonly string[];
}

export interface CarryResult {
  linked: number;
  copied: number;
  directories: number;
  symlinks: number;
  /** Entries removed from the tree because they were gone from the installation (switch only). */
  removed: number;
  skipped: string[];
}

/** How an entry was brought into the tree. */
type How = 'dir' | 'link' | 'copy' | 'symlink' | 'skip' | 'present';

/** An installation entry as it was when it was carried. */
interface Seen {
  how: How;
  ino: number;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  ctimeMs: number;
}

/**
 * What {@link carryCustomerEntries} listed and carried while the service ran: every directory of
 * the installation and every customer entry, with the stat it was carried at. The switch compares
 * the installation against it and carries only what differs ({@link carryChangesSince}).
 */
export interface CarriedEntries {
  /** `Date.now()` before the listing began: entries changed around or after it are re-checked. */
  listedAt: number;
  entries: Map<string, Seen>;
  /**
   * Directories only the old version's vendor entries needed: vendor paths or their parents that
   * staging did not make in the tree (the new version has nothing there). They are made only when
   * a customer entry is carried into them, and removed again at the switch when it left.
   */
  dropped?: ReadonlySet<string>;
}

const sameStat = (s: Seen, st: Stats) =>
  s.ino === st.ino &&
  s.size === st.size &&
  s.mtimeMs === st.mtimeMs &&
  s.ctimeMs === st.ctimeMs &&
  s.mode === (st.mode & 0o7777) &&
  s.uid === st.uid &&
  s.gid === st.gid;

const seen = (how: How, st: Stats): Seen => ({
  how,
  ino: st.ino,
  size: st.size,
  mode: st.mode & 0o7777,
  uid: st.uid,
  gid: st.gid,
  mtimeMs: st.mtimeMs,
  ctimeMs: st.ctimeMs,
});

const parentOf = (path: string) => {
  const i = path.lastIndexOf('/');
  return i === -1 ? '' : path.slice(0, i);
};
const childOf = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);

/** The writes of one carry: counts, the tree's directories opened for writing, what to fsync. */
class Carrier {
  readonly r: CarryResult = {
    linked: 0,
    copied: 0,
    directories: 0,
    symlinks: 0,
    removed: 0,
    skipped: [],
  };
  readonly root = process.getuid?.() === 0;
  /** Tree directories (relative) whose mode and owner must be set from the installation at the end. */
  readonly dirs = new Set<string>();
  /** Tree paths (relative) written at the switch: each file and directory is fsync'd before the renames. */
  readonly touched = new Set<string>();
  private readonly o: CarryOptions;
  private readonly c: CarriedEntries;
  /** Staging: files to hard-link are only listed (the switch links them). */
  private readonly listLinksOnly: boolean;

  constructor(o: CarryOptions, c: CarriedEntries, listLinksOnly: boolean) {
    this.o = o;
    this.c = c;
    this.listLinksOnly = listLinksOnly;
  }

  src = (path: string) => (path === '' ? this.o.install : join(this.o.install, path));
  dest = (path: string) => (path === '' ? this.o.tree : join(this.o.tree, path));

  isVendor(path: string): boolean {
    return this.o.vendorPaths.has(path) || path === this.o.vendorManifestPath;
  }

  /**
   * Makes a tree directory writable for the owner until its final mode is set (a 0555 directory),
   * first making it (and its parents) when it is not there: a dropped directory that receives a
   * customer entry.
   */
  open(dir: string): void {
    if (this.dirs.has(dir)) return;
    if (dir !== '' && !lstatOr(this.dest(dir))) {
      this.open(parentOf(dir));
      mkdirSync(this.dest(dir), { mode: 0o700 });
      this.r.directories++;
      this.wrote(parentOf(dir));
      this.wrote(dir);
    }
    this.dirs.add(dir);
    const st = lstatSync(this.dest(dir));
    if ((st.mode & 0o700) !== 0o700) chmodSync(this.dest(dir), (st.mode & 0o7777) | 0o700);
  }

  isDropped(dir: string): boolean {
    return this.c.dropped?.has(dir) === true;
  }

  /** A change of an entry in `dir`: the directory is fsync'd at the switch. */
  wrote(dir: string): void {
    this.touched.add(dir);
  }

  /** Lists the directory `path` (already in the tree) and carries what it holds, recursively. */
  visit(path: string, st: Stats): void {
    this.c.entries.set(path, seen('dir', st));
    if (!this.isDropped(path)) this.open(path);
    for (const name of readdirSync(this.src(path)).sort()) {
      const child = childOf(path, name);
      const cst = lstatSync(this.src(child));
      if (cst.isDirectory()) {
        const there = lstatOr(this.dest(child));
        if (there && !there.isDirectory()) {
          // The new version ships a link or file where the installation has a directory.
          this.r.skipped.push(child);
          continue;
        }
        if (!this.isDropped(child)) this.mkdir(child);
        this.visit(child, cst);
      } else if (!this.isVendor(child)) this.carry(child, cst);
    }
  }

  mkdir(path: string): void {
    this.open(parentOf(path));
    mkdirSync(this.dest(path), { recursive: true, mode: 0o700 });
    this.r.directories++;
    this.wrote(parentOf(path));
    this.wrote(path);
  }

  /** Brings one non-directory entry into the tree and records how. */
  carry(path: string, st: Stats): void {
    this.c.entries.set(path, seen(this.bring(path, st), st));
  }

  private bring(path: string, st: Stats): How {
    const src = this.src(path);
    const dest = this.dest(path);
    if (lstatOr(dest)) return 'present'; // Staging put an orphaned or merged file there.
    if (this.o.dropGlobs && matchesAnyGlob(this.o.dropGlobs, path)) return 'skip';
    if (this.listLinksOnly && st.isFile() && matchesAnyGlob(this.o.linkGlobs, path)) return 'link';
    if (!st.isSymbolicLink() && !st.isFile()) {
      this.r.skipped.push(path); // Sockets and FIFOs belong to a running process, not to the data.
      return 'skip';
    }
    this.open(parentOf(path));
    this.wrote(parentOf(path));
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(src), dest);
      if (this.root) lchownSync(dest, st.uid, st.gid);
      this.r.symlinks++;
      return 'symlink';
    }
    // Either way the file's own inode is fsync'd at the switch: it may hold writes not yet flushed.
    this.touched.add(path);
    if (matchesAnyGlob(this.o.linkGlobs, path)) {
      this.link(path);
      return 'link';
    }
    copyFileSync(src, dest, constants.COPYFILE_FICLONE);
    chmodSync(dest, st.mode & 0o7777);
    if (this.root) lchownSync(dest, st.uid, st.gid);
    // Seconds as a number keep the sub-millisecond part a Date would drop.
    lutimesSync(dest, st.atimeMs / 1000, st.mtimeMs / 1000);
    this.r.copied++;
    return 'copy';
  }

  link(path: string): void {
    linkSync(this.src(path), this.dest(path));
    this.wrote(parentOf(path));
    this.r.linked++;
  }

  /** Removes a carried non-directory entry from the tree. */
  remove(path: string): void {
    unlinkSync(this.dest(path));
    this.c.entries.delete(path);
    this.wrote(parentOf(path));
    this.r.removed++;
  }

  /**
   * Removes the dropped directories that are empty in the tree (their customer entries left since
   * staging), deepest first.
   */
  pruneDropped(): void {
    for (const d of [...(this.c.dropped ?? [])].sort().reverse()) {
      try {
        rmdirSync(this.dest(d));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'ENOTDIR') continue;
        throw err;
      }
      this.dirs.delete(d);
      this.touched.delete(d);
      this.wrote(parentOf(d));
    }
  }

  /** Gives every directory written to the installation's mode and owner, children first. */
  finishDirectories(): void {
    for (const d of [...this.dirs].sort().reverse()) {
      const st = lstatOr(this.src(d));
      if (!st?.isDirectory()) continue;
      if (this.root) lchownSync(this.dest(d), st.uid, st.gid);
      chmodSync(this.dest(d), st.mode & 0o7777);
      const s = this.c.entries.get(d);
      if (s?.how === 'dir' && (s.mode !== (st.mode & 0o7777) || s.uid !== st.uid))
        this.touched.add(d);
    }
  }
}

/**
 * The vendor paths, and their parent directories, that staging left out of the tree: what only
 * the old version shipped. Staging made every directory the new version needs (its files' and
 * links' parents, its empty directories, the orphaned copies' parents), so what is missing is
 * what the new version no longer has.
 */
function droppedDirs(o: CarryOptions): Set<string> {
  const dropped = new Set<string>();
  const checked = new Set<string>();
  for (const path of o.vendorPaths)
    for (let d = path; d !== '' && !checked.has(d); d = parentOf(d)) {
      checked.add(d);
      if (!lstatOr(join(o.tree, d))) dropped.add(d);
    }
  return dropped;
}

/**
 * Staging (the service runs): lists the customer-only entries (data, var, customer files) and
 * brings them into the staged tree, with the installation's modes, owners (as root) and mtimes:
 * copies for files written in place (SQLite databases, logs), so the old generation stays exactly
 * the old state for a rollback, directories and symlinks. Files the product only ever replaces by
 * rename (uploads) are only listed: the switch hard-links them (one link() each, no data), so the
 * staged tree holds only what staging wrote (what `du` of it says is space really taken). The
 * result is what {@link carryChangesSince} compares against at the switch. Directories that only
 * the old version's vendor entries needed are left out unless a customer entry goes into them:
 * what the new version no longer ships leaves no empty directory behind.
 */
export async function carryCustomerEntries(o: CarryOptions): Promise<CarriedEntries> {
  const c: CarriedEntries = { listedAt: Date.now(), entries: new Map(), dropped: droppedDirs(o) };
  const w = new Carrier(o, c, true);
  w.visit('', lstatSync(o.install));
  w.finishDirectories();
  return c;
}

/**
 * The switch (the service is stopped): brings the installation's customer entries into the tree
 * as {@link carryCustomerEntries} would, but only re-checks what it carried while the service ran:
 * a directory is read again only when its stat moved (an entry created, removed or renamed in it
 * changes its mtime and ctime); a copied file is copied again when its stat moved; listed uploads
 * are hard-linked by name (stat'ed only in a directory that moved). Entries touched around the
 * listing are always checked again. What it writes it fsyncs (the directories it wrote in, files
 * copied, files new since staging), so together with the flush at staging the whole tree is on
 * disk; nothing else is synced.
 */
export function carryChangesSince(o: CarryOptions, c: CarriedEntries): CarryResult {
  const w = new Carrier(o, c, false);
  const racy = (s: Seen) => s.ctimeMs >= c.listedAt - racyMarginMs;
  const moved = new Set<string>(); // Directories whose entries may have changed.
  const gone: string[] = []; // Directories no longer there (or no longer directories).
  const recarry: [string, Stats][] = [];
  const before = [...c.entries];

  for (const [path, s] of before) {
    if (s.how !== 'dir') continue;
    const st = lstatOr(w.src(path));
    if (!st?.isDirectory()) gone.push(path);
    else if (!sameStat(s, st) || racy(s)) {
      moved.add(path);
      const changed = s.mode !== (st.mode & 0o7777) || s.uid !== st.uid || s.gid !== st.gid;
      // A dropped directory never made in the tree is made only for an entry carried into it.
      if (changed && lstatOr(w.dest(path))) w.open(path);
    }
  }
  const dirGone = new Set(gone);
  for (const [path, s] of before) {
    if (s.how === 'dir' || s.how === 'present') continue;
    const parent = parentOf(path);
    const parentMoved = moved.has(parent) || dirGone.has(parent);
    if (s.how === 'link') {
      // Linked now, by name: a link is no copy, and whatever file the name holds is the one.
      if (parentMoved) {
        const st = lstatOr(w.src(path));
        if (!st?.isFile()) {
          c.entries.delete(path); // Gone, or no longer a file: the directory's re-read finds it.
          continue;
        }
        // A file written since the staging flush: its inode goes to disk too.
        if (st.ino !== s.ino) w.touched.add(path);
      }
      w.open(parent);
      w.link(path);
      continue;
    }
    // Only copies can change without their directory changing (written in place).
    if (s.how !== 'copy' && !parentMoved) continue;
    const st = parentMoved || s.how === 'copy' ? lstatOr(w.src(path)) : undefined;
    const same =
      st !== undefined &&
      (s.how === 'copy'
        ? st.isFile() && sameStat(s, st) && !racy(s)
        : s.how === 'symlink'
          ? st.isSymbolicLink() && sameStat(s, st)
          : !st.isFile() && !st.isSymbolicLink() && !st.isDirectory() && st.ino === s.ino);
    if (same) continue;
    w.open(parent);
    if (s.how === 'skip') c.entries.delete(path);
    else w.remove(path);
    // A file still there is carried again at once; anything else is found by re-reading its directory.
    if (st?.isFile() && s.how === 'copy' && !parentMoved) recarry.push([path, st]);
  }
  for (const path of gone.sort().reverse()) {
    c.entries.delete(path);
    if (!lstatOr(w.dest(path))) continue; // A dropped directory never made.
    w.open(parentOf(path));
    try {
      rmdirSync(w.dest(path));
      w.wrote(parentOf(path));
    } catch (err) {
      // Still holding vendor files staging put there: kept, as a full carry would have.
      if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw err;
    }
  }
  for (const [path, st] of recarry) w.carry(path, st);
  for (const dir of [...moved].sort()) {
    for (const name of readdirSync(w.src(dir)).sort()) {
      const path = childOf(dir, name);
      if (c.entries.has(path) || w.isVendor(path)) continue;
      const st = lstatSync(w.src(path));
      if (st.isDirectory()) {
        w.mkdir(path);
        w.visit(path, st);
      } else w.carry(path, st);
    }
  }
  w.pruneDropped();
  w.finishDirectories();
  for (const path of [...w.touched].sort().reverse()) fsyncPath(w.dest(path));
  return w.r;
}

/** fsync of a tree file or directory; one removed later in the same carry is skipped (its parent is synced). */
function fsyncPath(p: string): void {
  let fd: number;
  try {
    fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** As root, gives every staged vendor file the installation's owner (never root-owned files in a user's install). */
export async function ownLike(
  tree: string,
  paths: Iterable<string>,
  install: string,
): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const top = await lstat(install);
  const root = await lstat(tree);
  // Everything under the tree was made by this process in folders it made: when the tree and the
  // installation already have the same owner, so has every entry, and there is nothing to change.
  if (root.uid === top.uid && root.gid === top.gid && process.getgid?.() === top.gid) return;
  await lchown(tree, top.uid, top.gid);
  // Synchronous: thousands of one-syscall promises cost several times the calls themselves.
  for (const p of paths)
    try {
      lchownSync(join(tree, p), top.uid, top.gid);
    } catch {
      // Gone or never made (a conflict left it out): nothing to own.
    }
}
