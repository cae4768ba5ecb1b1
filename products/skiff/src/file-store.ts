import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A path inside an account's folder, as segments that are safe to join under data/<account>/. */
export type SafePath = { ok: true; segments: string[] } | { ok: false; reason: string };

/**
 * Parses the raw, still percent-encoded path after `/files/`. It decodes each segment on its own
 * and then rejects `.` and `..`, empty segments (a leading `/` makes the path absolute), NUL,
 * backslashes and encoded slashes, so `%2e%2e` cannot climb out either (SKF-214).
 */
export function parseFilePath(raw: string): SafePath {
  if (raw === '') return { ok: true, segments: [] };
  const segments: string[] = [];
  const parts = raw.endsWith('/') ? raw.slice(0, -1).split('/') : raw.split('/');
  for (const part of parts) {
    let seg: string;
    try {
      seg = decodeURIComponent(part);
    } catch {
      return { ok: false, reason: `"${part}" is not valid percent-encoding` };
    }
    if (seg === '') return { ok: false, reason: 'empty or absolute path segment' };
    if (seg === '.' || seg === '..') return { ok: false, reason: 'dot segments are not allowed' };
    if (/[\0/\\]/.test(seg)) {
      return { ok: false, reason: 'NUL, "/" and "\\" are not allowed inside a name' };
    }
    segments.push(seg);
  }
  return { ok: true, segments };
}

export interface StoredFile {
  path: string;
  size: number;
  modified: string;
}

/** Every file under `dir`, with `/`-separated paths relative to it, sorted. */
export function listFiles(dir: string, prefix = ''): StoredFile[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const files: StoredFile[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = `${prefix}/${e.name}`;
    if (e.isDirectory()) files.push(...listFiles(join(dir, e.name), rel));
    else if (e.isFile()) {
      const st = statSync(join(dir, e.name));
      files.push({ path: rel, size: st.size, modified: st.mtime.toISOString() });
    }
  }
  return files;
}
