import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { compileGlob, type Glob } from './glob.ts';

export type WalkEntryType = 'file' | 'directory' | 'symlink' | 'other';

/** One entry of a tree, as lstat saw it (a symlink is the link, never its target). */
export interface WalkEntry {
  /** Relative to the root, `/`-separated; `.` for the root itself. */
  path: string;
  type: WalkEntryType;
  size: number;
  /** Permission bits (`0o755`), without the file type. */
  mode: number;
  mtimeMs: number;
  uid: number;
  gid: number;
  /** The whole lstat, for what the fields above leave out (ino, nlink, dev, ctime). */
  stats: Stats;
}

export interface WalkOptions {
  /** Globs (src/util/glob.ts) of entries to leave out; a folder left out is not entered. */
  skip?: readonly string[];
  /** Leaves an entry out when it returns true; a folder left out is not entered. */
  prune?: (entry: WalkEntry) => boolean;
  /** Yield the root itself first, as `.` (never skipped or pruned). */
  includeRoot?: boolean;
  /**
   * Called when a folder cannot be listed (`op: 'list'`), an entry cannot be lstat'd (`'stat'`,
   * ENOENT when it went away since the listing) or a name is not UTF-8 (`'name'`, EILSEQ, the path
   * shows the name as latin1). The walk goes on without that entry; throw to stop it. Without a
   * handler the walk throws the error.
   */
  onError?: (path: string, err: NodeJS.ErrnoException, op: 'list' | 'stat' | 'name') => void;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Walks a tree in pre-order: a folder before its children, children in code-unit order, so the
 * same tree gives the same sequence on every machine. lstat only: a symlink is an entry and is
 * never followed, so a link to `/` cannot make a walk leave the tree.
 *
 * Synchronous listing and lstat: on Node 20 each promise-based lstat costs a thread-pool round
 * trip, which made a walk of a 100 000-file history folder three times slower than the same calls
 * in line (bench: 3.1 s vs 1.1 s). `walk` is this walk with a pause for the event loop every few
 * thousand entries.
 */
export function* walkSync(root: string, opts: WalkOptions = {}): Generator<WalkEntry> {
  const skip = (opts.skip ?? []).map(compileGlob);
  const fail = (path: string, err: unknown, op: 'list' | 'stat' | 'name') => {
    if (!opts.onError) throw err;
    opts.onError(path, err as NodeJS.ErrnoException, op);
  };
  if (opts.includeRoot) {
    let st: Stats;
    try {
      st = lstatSync(root);
    } catch (err) {
      fail('.', err, 'stat');
      return;
    }
    yield toEntry('.', st);
  }
  yield* visit(root, '', skip, opts, fail);
}

function* visit(
  root: string,
  rel: string,
  skip: readonly Glob[],
  opts: WalkOptions,
  fail: (path: string, err: unknown, op: 'list' | 'stat' | 'name') => void,
): Generator<WalkEntry> {
  let raw: Buffer[];
  try {
    raw = readdirSync(rel === '' ? root : join(root, rel), { encoding: 'buffer' });
  } catch (err) {
    fail(rel === '' ? '.' : rel, err, 'list');
    return;
  }
  const names: string[] = [];
  for (const r of raw) {
    try {
      names.push(strictUtf8.decode(r));
    } catch {
      const shown = rel === '' ? r.toString('latin1') : `${rel}/${r.toString('latin1')}`;
      const err: NodeJS.ErrnoException = new Error(`${shown}: the name is not valid UTF-8`);
      err.code = 'EILSEQ';
      fail(shown, err, 'name');
    }
  }
  names.sort(compareText);
  for (const name of names) {
    const path = rel === '' ? name : `${rel}/${name}`;
    if (skip.some((g) => g.matches(path))) continue;
    let st: Stats;
    try {
      st = lstatSync(join(root, path));
    } catch (err) {
      fail(path, err, 'stat');
      continue;
    }
    const entry = toEntry(path, st);
    if (opts.prune?.(entry)) continue;
    yield entry;
    if (entry.type === 'directory') yield* visit(root, path, skip, opts, fail);
  }
}

/** `walkSync`, pausing for the event loop every few thousand entries so a long walk starves no timer. */
export async function* walk(root: string, opts: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  let sinceYield = 0;
  for (const entry of walkSync(root, opts)) {
    yield entry;
    if (++sinceYield >= 2000) {
      sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

function toEntry(path: string, st: Stats): WalkEntry {
  return {
    path,
    type: st.isFile()
      ? 'file'
      : st.isDirectory()
        ? 'directory'
        : st.isSymbolicLink()
          ? 'symlink'
          : 'other',
    size: st.size,
    mode: st.mode & 0o7777,
    mtimeMs: st.mtimeMs,
    uid: st.uid,
    gid: st.gid,
    stats: st,
  };
}

/** Code-unit order, the same on every machine and locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
