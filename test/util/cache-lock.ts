import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive } from '../../src/util/index.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `dir`, built once by `build(work)` and reused while it is complete. Several test files at once
 * share it: the first takes a lock (the directory `<dir>.lock`, made atomically, holding its pid),
 * builds in a temporary folder and renames it into place; the others wait, up to 10 minutes. A
 * lock whose process is gone (or, without a pid, older than 30 s) is taken over.
 *
 * `marker` is the file (relative to `dir`) whose presence says the folder is complete: one that
 * `build` makes last, or by default `.complete`, written after `build` returns.
 */
export async function cachedFolder(
  dir: string,
  build: (work: string) => Promise<void>,
  o: { marker?: string } = {},
): Promise<string> {
  const done = join(dir, o.marker ?? '.complete');
  if (existsSync(done)) return dir;
  const lockDir = `${dir}.lock`;
  const deadline = Date.now() + 10 * 60_000;
  await mkdir(join(dir, '..'), { recursive: true });
  for (;;) {
    if (existsSync(done)) return dir;
    try {
      await mkdir(lockDir);
      await writeFile(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await readFile(join(lockDir, 'pid'), 'utf8').catch(() => ''));
      const age = Date.now() - (await stat(lockDir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if ((holder > 0 && !isAlive(holder)) || (!holder && age > 30_000)) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir}`);
      await sleep(500);
    }
  }
  try {
    if (existsSync(done)) return dir;
    const work = `${dir}.tmp-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    try {
      await build(work);
      if (o.marker === undefined)
        await writeFile(join(work, '.complete'), `${new Date().toISOString()}\n`);
      await rm(dir, { recursive: true, force: true });
      await rename(work, dir);
    } catch (err) {
      await rm(work, { recursive: true, force: true });
      throw err;
    }
    return dir;
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
