import { closeSync, fsyncSync, openSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Makes a create or rename inside `dir` durable: the entry is on disk only after this. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `file` with `bytes`: temp file, fsync, rename, directory fsync. Readers see the old or
 * the new content, never a mix. With `keepPrevious`, the old content moves to `<file>.prev` first,
 * so a reader that finds `file` missing or damaged (a crash between the two renames, a disk that
 * lied about the fsync) still has the last good copy.
 */
export async function writeDurably(
  file: string,
  bytes: Uint8Array | string,
  opts: { keepPrevious?: boolean; mode?: number } = {},
): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(file)}.tmp-${process.pid}`);
  try {
    const fh = await open(tmp, 'w', opts.mode ?? 0o644);
    try {
      await fh.writeFile(bytes);
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

/** Where {@link writeDurably} keeps the previous content. */
export function previousOf(file: string): string {
  return `${file}.prev`;
}
