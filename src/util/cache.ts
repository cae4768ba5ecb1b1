import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * A per-user cache of derived data (validated catalogs). Only ever an optimisation: entries are
 * content-addressed, a missing, unreadable or unwritable cache falls back to the full work, and
 * `UPLIFT_CACHE_DIR=off` disables it.
 */
export function cacheDir(): string | undefined {
  const env = process.env.UPLIFT_CACHE_DIR;
  if (env === 'off') return undefined;
  if (env) return env;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'uplift');
}

export async function readCached<T>(name: string): Promise<T | undefined> {
  const dir = cacheDir();
  if (!dir) return undefined;
  try {
    return JSON.parse(await readFile(join(dir, name), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function writeCached(name: string, value: unknown): Promise<void> {
  const dir = cacheDir();
  if (!dir) return;
  const tmp = join(dir, `${name}.${process.pid}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(tmp, JSON.stringify(value), { mode: 0o600 });
    await rename(tmp, join(dir, name));
  } catch {
    // A cache that cannot be written only costs speed next time.
  }
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
