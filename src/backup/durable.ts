import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isAlive, tempFileOf, writeFileDurably as writeDurable } from '../util/index.ts';

export {
  backgroundFlusher,
  crashPoint,
  fsyncDir,
  fsyncFile,
  syncTree,
} from '../util/index.ts';

/** The sidecar holding a backup's SHA-256 in `sha256sum` format. */
export function checksumFile(backup: string): string {
  return `${backup}.sha256`;
}

/**
 * Removes the temp files (`.<name>.tmp-<pid>`) that earlier writers of `file` left when they died
 * mid-write (a crash or kill -9); a live writer's temp file is left alone.
 */
export async function removeStaleTemps(file: string): Promise<void> {
  const prefix = basename(tempFileOf(file, 0)).slice(0, -1);
  for (const name of await readdir(dirname(file))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid))
      await rm(join(dirname(file), name), { force: true });
  }
}

/** A durable replace (src/util) that first sweeps the temp files of writers killed mid-write. */
export async function writeFileDurably(file: string, text: string): Promise<void> {
  await removeStaleTemps(file);
  await writeDurable(file, text);
}
