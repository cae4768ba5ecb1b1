import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, lstatSync, openSync, readdirSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isAlive } from './process.ts';

/**
 * Durable writes, the one home of the rule "a step is durable only when the file and its directory
 * are fsync'd" (docs/backup.md, docs/apply.md). Backup, restore, the repository and apply all
 * write through here.
 */

/** Makes a create, rename or delete inside `dir` durable: the entry is on disk only after this. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of a file that has already been written and closed. */
export async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The temp file {@link writeFileDurably} writes beside `file` (`.<name>.tmp-<pid>`). */
export function tempFileOf(file: string, pid = process.pid): string {
  return join(dirname(file), `.${basename(file)}.tmp-${pid}`);
}

/**
 * Removes the temp files ({@link tempFileOf}) that processes now gone left beside `file` when they
 * were killed mid-write; a live writer's is left alone. Returns the ones removed.
 */
export async function removeDeadTemps(file: string): Promise<string[]> {
  const prefix = `.${basename(file)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch {
    return [];
  }
  const dead = names
    .filter((n) => n.startsWith(prefix) && /^[1-9][0-9]*$/.test(n.slice(prefix.length)))
    .filter((n) => !isAlive(Number(n.slice(prefix.length))))
    .map((n) => join(dirname(file), n));
  for (const t of dead) await rm(t, { force: true });
  return dead;
}

/** Where {@link writeFileDurably} with `keepPrevious` keeps the previous content. */
export function previousOf(file: string): string {
  return `${file}.prev`;
}

export interface DurableWriteOptions {
  /** Mode of a new file; default 0o600. */
  mode?: number;
  /** Create the parent folders first. */
  mkdirs?: boolean;
  /** Move the old content to `<file>.prev` first, so a reader that finds `file` damaged still has the last good copy. */
  keepPrevious?: boolean;
}

/**
 * Replaces `file` with `data`: temp file, fsync, rename, directory fsync. Readers see the old or
 * the new content, never a mix; a crash leaves at most the temp file.
 */
export async function writeFileDurably(
  file: string,
  data: string | Uint8Array,
  opts: DurableWriteOptions = {},
): Promise<void> {
  const dir = dirname(file);
  if (opts.mkdirs) await mkdir(dir, { recursive: true });
  const tmp = tempFileOf(file);
  try {
    const fh = await open(tmp, 'w', opts.mode ?? 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.keepPrevious) {
      try {
        await rename(file, previousOf(file));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}

/**
 * Flushes every file and directory under `root` to disk. Node has no syncfs(2), so this runs
 * `sync -f` (GNU coreutils), one syscall instead of one fsync per file (about 0.5 ms each); without
 * it, it falls back to fsyncing each entry.
 */
export function syncTree(root: string): void {
  const r = spawnSync('sync', ['-f', root], { stdio: 'ignore' });
  if (r.status === 0) return;
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
    const fd = openSync(p, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  };
  walk(root);
}

/**
 * Starts flushing a tree that is still being written, one `sync -f` at a time in the background
 * every `everyBytes`, so the disk works while extraction goes on and the final {@link syncTree}
 * has little left to wait for. Only an optimisation: durability still comes from syncTree.
 */
export function backgroundFlusher(root: string, everyBytes = 128 << 20) {
  let since = 0;
  let running: ChildProcess | undefined;
  return {
    wrote(n: number): void {
      since += n;
      if (since < everyBytes || running) return;
      since = 0;
      const child = spawn('sync', ['-f', root], { stdio: 'ignore' });
      running = child;
      const done = () => {
        running = undefined;
      };
      child.on('exit', done);
      child.on('error', done);
    },
    /** Waits for a flush in progress, so nothing outlives the writer (a restore, a staging). */
    async stop(): Promise<void> {
      const child = running;
      if (child) await new Promise((r) => child.once('close', r));
    },
  };
}
