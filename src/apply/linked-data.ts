import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fsyncSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fsyncDir, matchesAnyGlob } from '../util/index.ts';
import { lstatOr } from './tree.ts';

/**
 * Customer links the profile declares as data (a link whose own path matches `paths.data`, e.g.
 * a database folder moved to another disk): the one kind of customer link uplift lets a hop
 * write through (its migrations). Before the migrations run, what each such link points to is
 * copied into the hop's staging folder; a rollback of the hop puts that content back behind the
 * link, so a failed migration rolls the data back too.
 *
 * Crash safety: the copy is complete (every file and folder fsync'd) before `linked-data.json`
 * is written (temp file, fsync, rename, folder fsync'd); only with that file present does a
 * rollback restore, and the rollback removes it only after the restore is on disk, so a restore
 * interrupted by a crash is done again by `uplift resume` from the same, complete copy.
 */

export interface KeptLink {
  /** The link's path in the installation. */
  path: string;
  /** The link's target text, as the link holds it. */
  target: string;
  /** The absolute path the target text leads to (from the link's folder). */
  resolved: string;
  kind: 'directory' | 'file';
  /** The copy, inside the hop's staging folder. */
  copy: string;
}

const markerOf = (stage: string) => join(stage, 'linked-data.json');

/** The installation's links (relative paths, from the carry's listing) that `dataGlobs` declare as data. */
export function dataLinks(links: Iterable<string>, dataGlobs: readonly string[]): string[] {
  if (dataGlobs.length === 0) return [];
  return [...links].filter((p) => matchesAnyGlob(dataGlobs, p)).sort();
}

/**
 * Copies what each data link points to into `<stage>/linked-data/<n>` (the service is stopped,
 * so the content is at rest), then records the copies durably. A dangling link has nothing to
 * keep. Idempotent: an earlier incomplete copy is thrown away first.
 */
export function keepLinkedData(install: string, stage: string, links: string[]): KeptLink[] {
  const dir = join(stage, 'linked-data');
  rmSync(markerOf(stage), { force: true });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o700 });
  const kept: KeptLink[] = [];
  for (const path of links) {
    const link = join(install, path);
    const target = readlinkSync(link);
    const resolved = resolve(dirname(link), target);
    let st: Stats;
    try {
      st = statSync(resolved);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const copy = join(dir, String(kept.length));
    const kind = st.isDirectory() ? 'directory' : 'file';
    if (kind === 'directory') copyDir(resolved, copy);
    else copyOne(resolved, copy, st);
    kept.push({ path, target, resolved, kind, copy });
  }
  fsyncDir(dir);
  const tmp = `${markerOf(stage)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(kept, null, 2)}\n`, { mode: 0o600 });
  fsyncPath(tmp);
  renameSync(tmp, markerOf(stage));
  fsyncDir(stage);
  return kept;
}

/**
 * Puts the kept content back behind each data link (the service is stopped): the target folder
 * ends up holding exactly what the copy holds (entries added since removed, changed files
 * replaced by new file + rename in their own folder), then the record is removed. Nothing to do
 * when no complete copy was recorded: the migrations had not run then. Idempotent.
 */
export function restoreLinkedData(stage: string): KeptLink[] {
  let kept: KeptLink[];
  try {
    kept = JSON.parse(readFileSync(markerOf(stage), 'utf8')) as KeptLink[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  for (const k of kept) {
    // The copy is found beside the record: the folder may have moved since (keepWithGeneration).
    const copy = join(stage, 'linked-data', basename(k.copy));
    if (k.kind === 'directory') {
      mkdirSync(k.resolved, { recursive: true });
      mirror(copy, k.resolved);
    } else replaceFile(copy, k.resolved);
  }
  unlinkSync(markerOf(stage));
  fsyncDir(stage);
  return kept;
}

/** Where a committed hop's copy of its data links is kept: beside its old generation. */
export const linkedDataBeside = (old: string): string => `${old}.linked-data`;

/**
 * At a hop's commit, moves its complete copy (record and content) from staging to
 * {@link linkedDataBeside} the hop's old generation, which `uplift rollback` and a run taken back
 * swap in again: they put the data behind the links back with it, as the hop's own rollback does.
 * Goes when the generation goes. Idempotent (nothing to move after a crash past the moves).
 */
export function keepWithGeneration(stage: string, old: string): void {
  if (!existsSync(markerOf(stage))) return;
  const dest = linkedDataBeside(old);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { mode: 0o700 });
  renameSync(join(stage, 'linked-data'), join(dest, 'linked-data'));
  // The record last: only with it present is the (complete) copy ever restored.
  renameSync(markerOf(stage), markerOf(dest));
  fsyncDir(dest);
  fsyncDir(stage);
}

function fsyncPath(p: string): void {
  const fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A file copied with its mode and times, and fsync'd. */
function copyOne(from: string, to: string, st: Stats): void {
  copyFileSync(from, to, constants.COPYFILE_FICLONE);
  chmodSync(to, st.mode & 0o7777);
  utimesSync(to, st.atimeMs / 1000, st.mtimeMs / 1000);
  fsyncPath(to);
}

/** A folder copied whole (links as links, never followed), every entry fsync'd. */
function copyDir(from: string, to: string): void {
  const st = lstatSync(from);
  mkdirSync(to, { mode: 0o700 });
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dest = join(to, name);
    const cst = lstatSync(src);
    if (cst.isDirectory()) copyDir(src, dest);
    else if (cst.isSymbolicLink()) {
      symlinkSync(readlinkSync(src), dest);
      lutimesSync(dest, cst.atimeMs / 1000, cst.mtimeMs / 1000);
    } else if (cst.isFile()) copyOne(src, dest, cst);
    // Sockets and FIFOs belong to a running process, not to the data.
  }
  chmodSync(to, st.mode & 0o7777);
  fsyncPath(to);
  utimesSync(to, st.atimeMs / 1000, st.mtimeMs / 1000);
}

/** `to` made to hold exactly what `from` holds, writing only through new file + rename. */
function mirror(from: string, to: string): void {
  const want = new Set(readdirSync(from));
  for (const name of readdirSync(to))
    if (!want.has(name)) rmSync(join(to, name), { recursive: true, force: true });
  for (const name of [...want].sort()) {
    const src = join(from, name);
    const dest = join(to, name);
    const st = lstatSync(src);
    const there = lstatOr(dest);
    if (st.isDirectory()) {
      if (there && !there.isDirectory()) rmSync(dest, { force: true });
      if (!there?.isDirectory()) mkdirSync(dest, { mode: 0o700 });
      mirror(src, dest);
      chmodSync(dest, st.mode & 0o7777);
      utimesSync(dest, st.atimeMs / 1000, st.mtimeMs / 1000);
    } else if (st.isSymbolicLink()) {
      if (there?.isSymbolicLink() && readlinkSync(dest) === readlinkSync(src)) continue;
      if (there) rmSync(dest, { recursive: true, force: true });
      symlinkSync(readlinkSync(src), dest);
    } else {
      if (there?.isDirectory()) rmSync(dest, { recursive: true, force: true });
      replaceFile(src, dest);
    }
  }
  fsyncPath(to);
}

/** `to` replaced by a copy of `from` (mode and times kept): temp file in `to`'s folder, fsync, rename. */
function replaceFile(from: string, to: string): void {
  const tmp = join(dirname(to), `.${process.pid}.uplift-restore`);
  rmSync(tmp, { force: true });
  copyOne(from, tmp, statSync(from));
  renameSync(tmp, to);
  fsyncDir(dirname(to));
}
