import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Makes a create, rename or delete inside `dir` durable: the directory entry is on disk only after this. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `file` by temp file + fsync + rename + directory fsync: readers see the old or the new bytes. */
export async function writeDurably(
  file: string,
  data: string | Uint8Array,
  mode = 0o600,
): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  fsyncDir(dirname(file));
}

/** Writes a new file (it must not exist) and flushes it; the caller fsyncs the directory. */
export async function writeNewFile(file: string, data: string | Uint8Array, mode: number) {
  await writeFile(file, data, { mode, flag: 'wx' });
}

/**
 * Test hook for the crash-safety tests: `UPLIFT_TEST_CRASH_AT=<step>:<begin|done>` (or any other
 * id this engine names, docs/apply.md) kills the process at once, as `kill -9` or a power cut
 * would. `UPLIFT_TEST_CRASH_AT=resume:<id>` does the same inside `uplift resume`.
 */
export function crashPoint(id: string): void {
  if (process.env.UPLIFT_TEST_CRASH_AT === id) process.kill(process.pid, 'SIGKILL');
}
