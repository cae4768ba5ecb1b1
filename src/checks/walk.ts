import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/**
 * Calls `onFile` with the `/`-separated relative path and the lstat of every regular file under
 * `root`, skipping the top-level folders named in `skip`. Symbolic links are not followed, so a
 * link out of the installation is never counted or hashed. Unreadable folders are passed over.
 */
export async function walk(
  root: string,
  onFile: (rel: string, stats: Stats) => void,
  skip: readonly string[] = [],
): Promise<void> {
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    await Promise.all(
      entries.map(async (e) => {
        if (dir === root && skip.includes(e.name)) return;
        const p = join(dir, e.name);
        if (e.isDirectory()) await visit(p);
        else if (e.isFile()) {
          const s = await lstat(p).catch(() => undefined);
          if (s !== undefined) onFile(relative(root, p).split(sep).join('/'), s);
        }
      }),
    );
  };
  await visit(root);
}
