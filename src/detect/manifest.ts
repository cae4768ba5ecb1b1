import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import {
  compareText,
  compileGlob,
  type Glob,
  kindOf,
  matchesAnyGlob,
  notRegularError,
  readRegularFile,
} from '../util/index.ts';
import type { InventoryEntry } from './inventory.ts';

/**
 * A vendor manifest: every file of a fresh installation of one version (docs/pack-format.md, "Release trees"),
 * and its symbolic links when it has any (a release tree's manifest.json, docs/pack-format.md).
 * Its `directories` (empty ones) are not compared: the walk lists no folders.
 */
export interface VendorManifest {
  product?: string;
  version?: string;
  files: { path: string; size: number; mode: number; sha256: string }[];
  symlinks?: { path: string; target: string }[];
}

/** What the customer changed relative to the vendor's files of the installed version. */
export interface CustomizedFiles {
  /** Vendor files whose content, mode or type differs. */
  changed: string[];
  /** Files the vendor does not ship. */
  added: string[];
  /** Vendor files that are gone. */
  removed: string[];
  /** Why a changed file counts as changed, where the content alone does not say (mode changes). */
  notes: Record<string, string>;
}

/**
 * Reads a vendor manifest, or returns undefined when the file is absent. A manifest that is not
 * the documented JSON is an error: comparing with half a manifest would report every file as added.
 */
export async function readManifest(file: string): Promise<VendorManifest | undefined> {
  let text: string;
  try {
    // A FIFO is refused, not waited on; a folder is EISDIR.
    text = await readRegularFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    const why =
      code === 'ENOTREG' || code === 'EISDIR' ? (err as Error).message : `${code ?? String(err)}`;
    throw new UpliftError(
      'UPLIFT_DETECT_CONFIG',
      `cannot read the vendor manifest ${file}: ${why}`,
      {
        cause: err,
        location: { file },
        hint:
          code === 'ENOTREG' || code === 'EISDIR'
            ? 'give the vendor manifest as a regular JSON file (restore it from the release)'
            : 'make the file readable by the user running uplift',
        unchanged: true,
      },
    );
  }
  const bad = (message: string, line?: number): never => {
    throw new UpliftError('UPLIFT_DETECT_CONFIG', `${file}: ${message}`, {
      location: { file, line },
      hint: 'a vendor manifest is JSON: { "files": [{ "path", "size", "mode", "sha256" }] }; restore it from the release',
    });
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const pos = /position (\d+)/.exec(String(err));
    bad(
      `not valid JSON (${String(err).split('\n')[0]})`,
      pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined,
    );
  }
  const files = (value as { files?: unknown })?.files;
  if (!Array.isArray(files)) return bad('expected a files list');
  for (const [i, f] of files.entries()) {
    const ok =
      typeof f?.path === 'string' &&
      typeof f.size === 'number' &&
      typeof f.mode === 'number' &&
      typeof f.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(f.sha256);
    if (!ok) bad(`files[${i}]: expected { path, size, mode, sha256 }`);
  }
  const symlinks = (value as { symlinks?: unknown }).symlinks;
  if (symlinks !== undefined && !Array.isArray(symlinks)) return bad('expected a symlinks list');
  for (const [i, l] of (symlinks ?? []).entries())
    if (typeof l?.path !== 'string' || typeof l.target !== 'string')
      bad(`symlinks[${i}]: expected { path, target }`);
  const v = value as VendorManifest;
  return { product: v.product, version: v.version, files, ...(symlinks ? { symlinks } : {}) };
}

/**
 * Compares the installation with the vendor manifest. Only files of the same size are hashed
 * (a different size is already a change), so most of a large installation is never read.
 * Paths matching `ignore` are left out on both sides: data, logs and runtime state are the
 * customer's by nature, not customizations.
 */
export async function compareWithManifest(
  root: string,
  entries: readonly InventoryEntry[],
  manifest: VendorManifest,
  ignore: readonly string[],
): Promise<CustomizedFiles> {
  const globs: Glob[] = ignore.map(compileGlob);
  const vendor = new Map(manifest.files.map((f) => [f.path, f]));
  const links = new Map((manifest.symlinks ?? []).map((l) => [l.path, l.target]));
  const seen = new Set<string>();
  const changed: string[] = [];
  const added: string[] = [];
  const notes: Record<string, string> = {};
  const toHash: { entry: InventoryEntry; sha256: string; modeNote?: string }[] = [];

  for (const entry of entries) {
    if (matchesAnyGlob(globs, entry.path)) continue;
    const v = vendor.get(entry.path);
    const target = v ? undefined : links.get(entry.path);
    if (target !== undefined) {
      // A vendor link (node_modules/.bin/* of an npm install): the same target is as shipped.
      seen.add(entry.path);
      const now =
        entry.kind === 'symlink'
          ? await readlink(join(root, entry.path)).catch(() => undefined)
          : undefined;
      if (now === target) continue;
      changed.push(entry.path);
      notes[entry.path] =
        entry.kind === 'symlink'
          ? `link target ${target} → ${now ?? '(unreadable)'}`
          : `a ${entry.kind === 'file' ? 'file' : 'special file'} where the vendor ships a symbolic link`;
      continue;
    }
    if (!v) {
      added.push(entry.path);
      continue;
    }
    seen.add(entry.path);
    const modeNote =
      (entry.mode & 0o7777) === (v.mode & 0o7777)
        ? undefined
        : `mode ${octal(v.mode)} → ${octal(entry.mode)}`;
    if (entry.kind !== 'file') {
      changed.push(entry.path);
      notes[entry.path] =
        `a ${entry.kind === 'symlink' ? 'symbolic link' : 'special file'} where the vendor ships a file`;
    } else if (entry.size !== v.size) {
      changed.push(entry.path);
      if (modeNote) notes[entry.path] = `content and ${modeNote}`;
    } else toHash.push({ entry, sha256: v.sha256, modeNote });
  }

  const hashes = await hashFiles(
    root,
    toHash.map((h) => h.entry.path),
  );
  toHash.forEach((h, i) => {
    const sameContent = hashes[i] === h.sha256;
    if (sameContent && !h.modeNote) return;
    changed.push(h.entry.path);
    if (h.modeNote)
      notes[h.entry.path] = sameContent
        ? `${h.modeNote}; content as shipped`
        : `content and ${h.modeNote}`;
  });

  const removed = [...manifest.files.map((f) => f.path), ...links.keys()].filter(
    (p) => !seen.has(p) && !matchesAnyGlob(globs, p),
  );
  return {
    changed: changed.sort(compareText),
    added: added.sort(compareText),
    removed: removed.sort(compareText),
    notes: Object.fromEntries(Object.entries(notes).sort(([a], [b]) => compareText(a, b))),
  };
}

/** SHA-256 of each file, a few at a time; an unreadable file hashes to '' and so counts as changed. */
async function hashFiles(root: string, paths: readonly string[]): Promise<string[]> {
  const out: string[] = new Array(paths.length).fill('');
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < paths.length; i = next++) {
      out[i] = await sha256File(join(root, paths[i] as string)).catch(() => '');
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

/**
 * The walk saw a regular file, but it may have been replaced since: opened without following a
 * link and without blocking, and hashed only when it is still a regular file.
 */
async function sha256File(file: string): Promise<string> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegularError(file, kindOf(st));
    const hash = createHash('sha256');
    for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk);
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}
