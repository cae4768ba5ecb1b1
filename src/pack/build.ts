import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { makeFolders, noSpaceError, UpliftError, unwritablePathError } from '../errors/index.ts';
import { type PrivateKey, signBytes } from '../signing/index.ts';
import { crashPoint, removeDeadTemps, tempFileOf } from '../util/index.ts';
import { encodeHeader, headerBytes, maxManifestBytes } from './format.ts';
import {
  defaultWorkers,
  FrameStream,
  FrameWriter,
  type FrameWriterOptions,
  payloadBound,
} from './frames.ts';
import { loadMigrations, noMigrations } from './migrations.ts';
import { readReleaseTree, type TreeFile, treeFileError, treeFileProblem } from './release-tree.ts';
import {
  type PackDirectory,
  type PackFile,
  type PackManifest,
  type PackSymlink,
  PlatformId,
} from './schema.ts';
import { encodeTarHeader, tarEndBytes, tarHeaderBytes, tarPadding } from './tar-encode.ts';
import { patternOf, schemeFor } from './versions.ts';
import { zstdLevel } from './zstd.ts';

export interface BuildOptions {
  /** Release tree of the version the pack upgrades from (`DIR/tree`, `DIR/manifest.json`). */
  fromTree: string;
  /** Release tree of the version it upgrades to. */
  toTree: string;
  platform: string;
  /** Only what changed between the trees (default: every file of the to tree). */
  delta?: boolean;
  key: PrivateKey;
  out: string;
  /** Build number (default `1`). */
  build?: string;
  /** Versions the pack applies to (default: the from version for delta, `>=FROM, <TO` for full). */
  fromRange?: string;
  /** `--migrations FILE.yaml`. */
  migrations?: string;
  /** ISO time recorded as `created` (default: from the to tree's manifest). */
  created?: string;
  /**
   * Compression threads (default: one per core). The pack's bytes do not depend on it: each
   * frame is compressed alone (docs/pack-format.md, "Determinism").
   */
  workers?: number;
  /**
   * Also compute the whole pack file's SHA-256, to give to a repository index or a plan: one more
   * read and hash of every byte once the head is written, so off by default (as for verify).
   * `repo add` computes it itself.
   */
  fileSha256?: boolean;
  /** zstd level (default {@link zstdLevel}); for measurements. */
  level?: number;
  /** The version scheme of the product (its profile's catalog); default: the profile named as the product. */
  versionScheme?: string;
  /**
   * The profile's data globs (`paths.data` and `paths.databases`): with them, every database a
   * migration names must match one (docs/pack-format.md, "Migrations and hooks").
   */
  dataGlobs?: readonly string[];
}

export interface BuildResult {
  file: string;
  bytes: number;
  /** The whole file's SHA-256, with {@link BuildOptions.fileSha256}. */
  sha256?: string;
  manifest: PackManifest;
}

function inputError(message: string, hint: string, file?: string): UpliftError {
  return new UpliftError('UPLIFT_PACK_BUILD_INPUT', message, {
    hint,
    location: file ? { file } : undefined,
  });
}

/**
 * Builds a signed pack from two release trees. Deterministic: the same trees, options and key give
 * byte-identical files (sorted entries, mtime 0, owners 0, fixed zstd level, ed25519). Writes `out`
 * by temp file + fsync + rename, so it never leaves a partial pack.
 */
export async function buildPack(o: BuildOptions): Promise<BuildResult> {
  if (!PlatformId.safeParse(o.platform).success)
    throw inputError(
      `--platform ${JSON.stringify(o.platform)} is not a platform id`,
      'Use the id detection reports, e.g. linux-x86-64 or linux-arm64 (uplift facts shows it).',
    );
  const build = o.build ?? '1';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(build))
    throw inputError(`--build ${JSON.stringify(build)} is not a build number`, 'Use e.g. 2306.');
  // The to tree's files that go into the payload are hashed while they are packed, not here: each
  // is read once. Which they are follows from the two manifests (as in diffTrees).
  const a = await readReleaseTree(o.fromTree, { contentUnused: !o.delta });
  const b = await readReleaseTree(o.toTree, {
    hashedLater: (f) => {
      const was = a.files.get(f.path);
      return !o.delta || !was || was.sha256 !== f.sha256 || was.mode !== f.mode;
    },
  });
  for (const t of [a, b])
    if (t.platform !== undefined && t.platform !== o.platform)
      throw inputError(
        `--platform ${o.platform} differs from ${t.platform}, the platform ${t.dir}/manifest.json names`,
        `Build the pack with --platform ${t.platform}, or from release trees of ${o.platform}.`,
        t.dir,
      );
  if (a.product !== b.product)
    throw inputError(
      `the from tree is ${a.product} and the to tree is ${b.product}`,
      'Give two release trees of the same product.',
      o.toTree,
    );
  const scheme = await schemeFor(b.product, o.versionScheme);
  if (!scheme)
    throw inputError(
      `no profile describes the product ${b.product}, so its versions cannot be compared`,
      'Name its profile with --profile NAME|DIR (uplift profiles lists the ones found).',
      o.toTree,
    );
  for (const [t, dir] of [
    [a, o.fromTree],
    [b, o.toTree],
  ] as const)
    if (!scheme.isValid(t.version))
      throw inputError(
        `${t.version} is not a ${scheme.id} version`,
        'Fix the version in the release manifest.',
        dir,
      );
  if (scheme.compare(b.version, a.version) <= 0)
    throw inputError(
      `the to tree (${b.version}) is not newer than the from tree (${a.version})`,
      'Swap --from-tree and --to-tree; uplift does not build downgrade packs.',
      o.toTree,
    );
  const range = o.fromRange ?? (o.delta ? a.version : `>=${a.version}, <${b.version}`);
  const pattern = patternOf(range, scheme);
  if (typeof pattern === 'string')
    throw inputError(
      `--from-range ${JSON.stringify(range)}: ${pattern}`,
      'Write a version pattern as in docs/catalog.md, e.g. ">=5.4 GA, <5.4 Patch 2".',
    );
  if (pattern.matches(b.version))
    throw inputError(
      `--from-range ${JSON.stringify(range)} contains the target ${b.version}`,
      'A pack upgrades to a newer version: exclude the target from the range.',
    );
  if (o.delta && !pattern.matches(a.version))
    throw inputError(
      `--from-range ${JSON.stringify(range)} does not contain ${a.version}, the version the delta was built against`,
      'A delta applies only on top of its from version: include it in the range.',
    );
  const created = o.created ?? b.created;
  if (Number.isNaN(Date.parse(created)))
    throw inputError(
      `--created ${JSON.stringify(created)} is not an ISO time`,
      'Use e.g. 2025-01-31T00:00:00Z.',
    );
  const migrations = o.migrations ? await loadMigrations(o.migrations, o.dataGlobs) : noMigrations;

  const files = diffTrees(a.files, b.files, o.delta === true);
  const symlinks: PackSymlink[] = diffEntries(a.symlinks, b.symlinks, o.delta === true, 'target');
  const directories: PackDirectory[] = diffEntries(
    a.directories,
    b.directories,
    o.delta === true,
    'mode',
  );
  const changed = files.filter((f) => f.action !== 'delete') as (PackFile & TreeFile)[];
  const entries: PayloadEntry[] = [
    ...migrations.scripts.map((s) => ({ ...s.entry, source: s.source })),
    ...changed.map((f) => ({
      path: f.path,
      size: f.size,
      mode: f.mode,
      sha256: f.sha256,
      source: join(b.tree, f.path),
    })),
    ...symlinks.flatMap((l) =>
      l.action === 'delete'
        ? []
        : [{ path: l.path, size: 0 as const, mode: 0o777, target: l.target }],
    ),
    ...directories.flatMap((d) =>
      d.action === 'delete'
        ? []
        : [{ path: d.path, size: 0 as const, mode: d.mode, directory: true as const }],
    ),
  ].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  const v11 = symlinks.length > 0 || directories.length > 0;
  let growth = 0;
  for (const f of files) {
    const old = a.files.get(f.path)?.size ?? 0;
    growth += f.action === 'delete' ? -old : f.action === 'replace' ? f.size - old : f.size;
  }

  const out = resolve(o.out);
  await makeFolders(dirname(out), out, '--out');
  // A build killed mid-write (a crash, kill -9) leaves its temp file and never the pack: the
  // next build to the same place removes it.
  await removeDeadTemps(out);
  const tmp = tempFileOf(out);
  const level = o.level ?? zstdLevel;
  // The payload is written once, in place: the manifest before it is laid out first with the
  // largest payload size the frames can have, and padded to that length once the size is known.
  // The tar's size from its headers' lengths: the headers themselves are made as they are packed,
  // while the compression threads are busy, and not here, before the first frame.
  const unpackedBytes = tarBytesOf(entries);
  const manifestOf = (payload: { bytes: number; sha256: string }): PackManifest => ({
    format: v11 ? 'uplift-pack/1.1' : 'uplift-pack/1',
    product: b.product,
    kind: o.delta ? 'delta' : 'full',
    from: { range, version: a.version },
    to: b.version,
    platform: o.platform,
    build,
    created: new Date(created).toISOString(),
    files,
    ...(v11 ? { symlinks, directories } : {}),
    migrations: { config: migrations.config, database: migrations.database },
    hooks: migrations.hooks,
    space: { stage: entries.reduce((n, e) => n + e.size, 0), growth },
    payload: {
      compression: 'zstd',
      level,
      bytes: payload.bytes,
      sha256: payload.sha256,
      unpackedBytes,
      entries: entries.length,
    },
  });
  const serialise = (m: PackManifest) => `${JSON.stringify(m, null, 2)}\n`;
  const room = Buffer.byteLength(
    serialise(manifestOf({ bytes: payloadBound(unpackedBytes), sha256: '0'.repeat(64) })),
  );
  if (room > maxManifestBytes)
    throw inputError(
      `the manifest would be ${room} bytes, over the ${maxManifestBytes}-byte limit verification enforces`,
      'Split the release into several packs.',
    );
  // An ed25519 signature is always 64 bytes, so its envelope's length is known before signing.
  const sigLength = Buffer.byteLength(JSON.stringify(signBytes(o.key, Buffer.alloc(0))), 'utf8');
  const payloadAt = headerBytes + room + sigLength;
  try {
    const fh = await open(tmp, 'wx+', 0o644).catch((err: unknown) => {
      throw unwritablePathError(err, out, '--out') ?? err;
    });
    let bytes = 0;
    const whole = o.fileSha256 ? createHash('sha256') : undefined;
    let manifest: PackManifest;
    try {
      const payload = await writePayload(entries, join(b.dir, 'manifest.json'), fh.fd, {
        at: payloadAt,
        level,
        workers: o.workers ?? defaultWorkers(),
        tarBytes: unpackedBytes,
      });
      if (payload.unpackedBytes !== unpackedBytes)
        throw new Error(`the tar is ${payload.unpackedBytes} bytes, not ${unpackedBytes}`);
      manifest = manifestOf(payload);
      // Spaces before the final newline fill the room left by a payload size with fewer digits
      // than the bound: a pure function of the input, so still deterministic.
      const text = serialise(manifest);
      const manifestBytes = Buffer.from(
        `${text.slice(0, -1)}${' '.repeat(room - Buffer.byteLength(text))}\n`,
        'utf8',
      );
      const sigBytes = Buffer.from(JSON.stringify(signBytes(o.key, manifestBytes)), 'utf8');
      if (manifestBytes.length !== room || sigBytes.length !== sigLength)
        throw new Error('the manifest or signature does not fit the room laid out for it');
      for (const part of [encodeHeader(room, sigLength), manifestBytes, sigBytes]) {
        await writeAll(fh, part, bytes);
        whole?.update(part);
        bytes += part.length;
      }
      crashPoint('pack-build:head');
      // Every byte is written (most of the payload already flushed while it was written): the file
      // is made durable while the whole file's SHA-256, when asked for, which needs the head
      // first, reads the payload back (from the page cache) and hashes it.
      const synced = fh.sync();
      synced.catch(() => {});
      if (whole) {
        const buf = Buffer.allocUnsafe(readBytes);
        for (let left = payload.bytes, at = bytes; left > 0; ) {
          const n = readSync(fh.fd, buf, 0, Math.min(buf.length, left), at);
          if (n === 0) throw new Error('the payload is shorter than written');
          whole.update(buf.subarray(0, n));
          at += n;
          left -= n;
        }
      }
      bytes += payload.bytes;
      await synced;
      crashPoint('pack-build:synced');
    } finally {
      await fh.close();
    }
    await rename(tmp, out).catch((err: unknown) => {
      throw unwritablePathError(err, out, '--out') ?? err;
    });
    crashPoint('pack-build:renamed');
    const dh = await open(dirname(out), 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
    return { file: out, bytes, ...(whole ? { sha256: whole.digest('hex') } : {}), manifest };
  } catch (err) {
    throw noSpaceError(err, out, 'Nothing of the pack was kept.') ?? err;
  } finally {
    await rm(tmp, { force: true });
  }
}

async function writeAll(fh: FileHandle, b: Buffer, at: number): Promise<void> {
  for (let off = 0; off < b.length; )
    off += (await fh.write(b, off, b.length - off, at + off)).bytesWritten;
}

/** The manifest's file list: sorted by path; delta leaves out files equal in both trees. */
function diffTrees(
  a: ReadonlyMap<string, TreeFile>,
  b: ReadonlyMap<string, TreeFile>,
  delta: boolean,
): PackFile[] {
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const files: PackFile[] = [];
  for (const path of paths) {
    const was = a.get(path);
    const now = b.get(path);
    if (now && !was)
      files.push({ path, action: 'add', size: now.size, mode: now.mode, sha256: now.sha256 });
    else if (now && was) {
      if (delta && was.sha256 === now.sha256 && was.mode === now.mode) continue;
      files.push({
        path,
        action: 'replace',
        size: now.size,
        mode: now.mode,
        sha256: now.sha256,
        ...(delta ? { was: was.sha256 } : {}),
      });
    } else if (was) files.push({ path, action: 'delete', ...(delta ? { was: was.sha256 } : {}) });
  }
  return files;
}

/** One kept link or directory of {@link diffEntries}: its path, action and the one field it carries. */
type KeptEntry<T, K extends keyof T> = { path: string; action: 'add' | 'replace' } & Pick<T, K>;

/**
 * Symbolic links (`target`) or empty directories (`mode`): every entry of the to tree (full) or
 * each new one or one whose field changed (delta), and a `delete` for each entry the to tree lacks.
 */
function diffEntries<T, K extends keyof T>(
  a: ReadonlyMap<string, T>,
  b: ReadonlyMap<string, T>,
  delta: boolean,
  field: K,
): (KeptEntry<T, K> | { path: string; action: 'delete' })[] {
  const out: (KeptEntry<T, K> | { path: string; action: 'delete' })[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const was = a.get(path);
    const now = b.get(path);
    if (now) {
      if (delta && was?.[field] === now[field]) continue;
      out.push({ path, action: was ? 'replace' : 'add', [field]: now[field] } as KeptEntry<T, K>);
    } else out.push({ path, action: 'delete' });
  }
  return out;
}

/** A regular file (`source`, `sha256`), a symbolic link (`target`) or an empty directory. */
type PayloadEntry =
  | { path: string; size: number; mode: number; sha256: string; source: string }
  | { path: string; size: 0; mode: number; target: string }
  | { path: string; size: 0; mode: number; directory: true };

/** Reads of the payload while it is hashed into the whole file's SHA-256. */
const readBytes = 4 << 20;

/**
 * Writes the payload: the tar of the entries (tar-stream's exact bytes), cut into frames of
 * {@link frameBytes}, each compressed alone on a worker thread and written in order, hashed.
 * Each file is opened once (not through a link), checked by fstat (a regular file of the
 * manifest's size and mode), read exactly once, straight into its frame's buffer, and hashed while
 * read: a file that differs from its release manifest (the tree check leaves packed files to this
 * step) or changed since is refused (`manifestFile` names the manifest in the error).
 */
async function writePayload(
  entries: PayloadEntry[],
  manifestFile: string,
  fd: number,
  o: FrameWriterOptions,
): Promise<{ bytes: number; sha256: string; unpackedBytes: number }> {
  const frames = new FrameWriter(fd, o);
  try {
    const tar = new FrameStream(frames);
    const probe = Buffer.alloc(1);
    const midway = Math.floor(entries.length / 2);
    for (const [k, e] of entries.entries()) {
      if (k === midway) crashPoint('pack-build:payload');
      await tar.write(headerOf(e));
      if (!('source' in e)) continue;
      const hash = createHash('sha256');
      // Not through a link: the tree walk saw a regular file here, and fstat says it still is one.
      let src: number;
      try {
        src = openSync(e.source, constants.O_RDONLY | constants.O_NOFOLLOW);
      } catch (err) {
        throw inputError(
          `${e.source} cannot be read: ${(err as Error).message}`,
          'The tree was changed while the pack was being built: build from a tree nothing writes to.',
          e.source,
        );
      }
      try {
        const problem = treeFileProblem(e, fstatSync(src), undefined);
        if (problem) throw treeFileError(e.source, manifestFile, problem);
        let n = 0;
        while (n < e.size) {
          const room = await tar.room();
          const want = Math.min(room.length, e.size - n);
          let got = 0;
          for (let r = 1; r > 0 && got < want; got += r)
            r = readSync(src, room, got, want - got, null);
          if (got === 0) break;
          hash.update(room.subarray(0, got));
          tar.commit(got);
          n += got;
        }
        // One byte more than the manifest says, so a file that grew is noticed.
        if (
          n !== e.size ||
          readSync(src, probe, 0, 1, null) !== 0 ||
          hash.digest('hex') !== e.sha256
        )
          throw inputError(
            `${e.source} does not match its release manifest (${e.size} bytes, sha256 ${e.sha256.slice(0, 12)}…): it was changed after the manifest was written, or while the pack was being built`,
            'Rebuild the release tree, and build from a tree nothing writes to.',
            e.source,
          );
      } finally {
        closeSync(src);
      }
      await tar.zeros(tarPadding(e.size));
    }
    await tar.zeros(tarEndBytes);
    await tar.end();
    return { ...(await frames.end()), unpackedBytes: tar.total };
  } finally {
    await frames.close();
  }
}

/** Bytes of the payload's tar: every entry's headers and padded content, and the end blocks. */
function tarBytesOf(entries: PayloadEntry[]): number {
  let n = tarEndBytes;
  for (const e of entries)
    n +=
      tarHeaderBytes({ name: e.path, linkname: 'target' in e ? e.target : undefined }) +
      e.size +
      tarPadding(e.size);
  return n;
}

/** A payload entry's tar headers: no owner, no time (the same tree always gives the same bytes). */
function headerOf(e: PayloadEntry): Buffer {
  const base = { name: e.path, size: e.size, mode: e.mode };
  if ('source' in e) return encodeTarHeader({ ...base, type: 'file' });
  if ('target' in e) return encodeTarHeader({ ...base, type: 'symlink', linkname: e.target });
  return encodeTarHeader({ ...base, type: 'directory' });
}
