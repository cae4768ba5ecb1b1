import {
  chmod,
  constants,
  copyFile,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  readlink,
  symlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import { matchesAny, walk } from './tree.ts';

export interface CarryOptions {
  install: string;
  tree: string;
  /** Vendor paths of the old and the new version: never carried (staging decided them). */
  vendorPaths: ReadonlySet<string>;
  vendorManifestPath: string;
  /** Files only ever replaced by new file + rename: hard-linked. Everything else is copied. */
  linkGlobs: readonly string[];
}

export interface CarryResult {
  linked: number;
  copied: number;
  directories: number;
  symlinks: number;
  skipped: string[];
}

/**
 * Brings the customer-only entries (data, var, customer files) into the staged tree, with the
 * installation's modes, owners (as root) and mtimes. Hard links for files the product only ever
 * replaces by rename (uploads), copies for files written in place (SQLite databases, logs), so
 * the old generation stays exactly the old state for a rollback.
 */
export async function carryCustomerEntries(o: CarryOptions): Promise<CarryResult> {
  const r: CarryResult = { linked: 0, copied: 0, directories: 0, symlinks: 0, skipped: [] };
  const root = process.getuid?.() === 0;
  const dirs: { path: string; mode: number; uid: number; gid: number; mtimeMs: number }[] = [];
  for (const e of await walk(o.install)) {
    if (o.vendorPaths.has(e.path) || e.path === o.vendorManifestPath) continue;
    const src = join(o.install, e.path);
    const dest = join(o.tree, e.path);
    if (e.type === 'directory') {
      await mkdir(dest, { recursive: true, mode: 0o700 });
      dirs.push(e);
      r.directories++;
      continue;
    }
    const present = await lstat(dest).then(
      () => true,
      () => false,
    );
    if (present) continue; // Staging put an orphaned or merged file there.
    if (e.type === 'symlink') {
      await symlink(await readlink(src), dest);
      if (root) await lchown(dest, e.uid, e.gid);
      r.symlinks++;
      continue;
    }
    if (e.type !== 'file') {
      r.skipped.push(e.path); // Sockets and FIFOs belong to a running process, not to the data.
      continue;
    }
    if (matchesAny(e.path, o.linkGlobs)) {
      await link(src, dest);
      r.linked++;
      continue;
    }
    await copyFile(src, dest, constants.COPYFILE_FICLONE);
    await chmod(dest, e.mode);
    if (root) await lchown(dest, e.uid, e.gid);
    const t = new Date(e.mtimeMs);
    await lutimes(dest, t, t);
    r.copied++;
  }
  for (const d of dirs.reverse()) {
    const dest = join(o.tree, d.path);
    if (root) await lchown(dest, d.uid, d.gid);
    await chmod(dest, d.mode);
  }
  const top = await lstat(o.install);
  if (root) await lchown(o.tree, top.uid, top.gid);
  await chmod(o.tree, top.mode & 0o7777);
  return r;
}

/** As root, gives every staged vendor file the installation's owner (never root-owned files in a user's install). */
export async function ownLike(
  tree: string,
  paths: Iterable<string>,
  install: string,
): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const top = await lstat(install);
  await lchown(tree, top.uid, top.gid);
  for (const p of paths) await lchown(join(tree, p), top.uid, top.gid).catch(() => undefined);
}
