import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import tar from 'tar-stream';
import binding from 'zstd-napi/binding.js';
import { UpliftError, unwritablePathError } from '../errors/index.ts';
import { type PrivateKey, signBytes } from '../signing/index.ts';
import { drained } from '../util/index.ts';
import { encodeHeader, maxManifestBytes } from './format.ts';
import { loadMigrations, noMigrations } from './migrations.ts';
import { readReleaseTree, type TreeFile } from './release-tree.ts';
import {
  type PackDirectory,
  type PackFile,
  type PackManifest,
  type PackSymlink,
  PlatformId,
} from './schema.ts';
import { patternOf, schemeFor } from './versions.ts';
import { windowLog, zstdLevel } from './zstd.ts';

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
  sha256: string;
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
  const a = await readReleaseTree(o.fromTree);
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
  await mkdir(dirname(out), { recursive: true }).catch((err: unknown) => {
    throw unwritablePathError(err, out, '--out') ?? err;
  });
  const payloadTmp = join(dirname(out), `.${basename(out)}.payload-${process.pid}`);
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}`);
  try {
    const level = o.level ?? zstdLevel;
    const payload = await writePayload(entries, payloadTmp, level);
    const manifest: PackManifest = {
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
      payload: { compression: 'zstd', level, ...payload, entries: entries.length },
    };
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
    if (manifestBytes.length > maxManifestBytes)
      throw inputError(
        `the manifest would be ${manifestBytes.length} bytes, over the ${maxManifestBytes}-byte limit verification enforces`,
        'Split the release into several packs.',
      );
    const sigBytes = Buffer.from(JSON.stringify(signBytes(o.key, manifestBytes)), 'utf8');
    const whole = createHash('sha256');
    let bytes = 0;
    const fh = await open(tmp, 'wx', 0o644);
    try {
      for (const part of [
        encodeHeader(manifestBytes.length, sigBytes.length),
        manifestBytes,
        sigBytes,
      ]) {
        await fh.write(part);
        whole.update(part);
        bytes += part.length;
      }
      const buf = Buffer.allocUnsafe(readBytes);
      const src = openSync(payloadTmp, 'r');
      try {
        for (let n = readSync(src, buf); n > 0; n = readSync(src, buf)) {
          const chunk = buf.subarray(0, n);
          for (let off = 0; off < n; ) off += writeSync(fh.fd, chunk, off, n - off);
          whole.update(chunk);
          bytes += n;
        }
      } finally {
        closeSync(src);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, out);
    const dh = await open(dirname(out), 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
    return { file: out, bytes, sha256: whole.digest('hex'), manifest };
  } finally {
    await rm(payloadTmp, { force: true });
    await rm(tmp, { force: true });
  }
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

/** Files below this size are read whole into one buffer and handed to tar as one entry; larger
 * ones in reads of this size. */
const readBytes = 4 << 20;

/**
 * Writes the payload: a tar of the entries, compressed by zstd as tar hands out its bytes, hashed
 * and written with synchronous calls (one reused output buffer; no stream per file or chunk).
 * Each file is read exactly once, and hashed while read: a file that differs from its release
 * manifest (the tree check leaves packed files to this step) or changed since is refused.
 */
async function writePayload(
  entries: PayloadEntry[],
  file: string,
  level: number,
): Promise<{ bytes: number; sha256: string; unpackedBytes: number }> {
  const fd = openSync(file, 'wx', 0o600);
  try {
    const z = new PayloadCompressor(fd, level);
    const pack = tar.pack();
    let unpackedBytes = 0;
    let failed: unknown;
    pack.on('error', () => {});
    pack.on('data', (data) => {
      const chunk = data as Buffer;
      unpackedBytes += chunk.length;
      try {
        z.write(chunk);
      } catch (err) {
        failed ??= err;
        pack.destroy(err as Error);
      }
    });
    const ended = new Promise<boolean>((res) => {
      pack.once('end', () => res(true));
      pack.once('close', () => res(false));
    });
    try {
      for (const e of entries) await addEntry(pack, e);
      pack.finalize();
    } catch (err) {
      failed ??= err;
      pack.destroy(err as Error);
    }
    const complete = await ended;
    if (failed) throw failed;
    if (!complete) throw new Error('the archive stream closed early');
    return { ...z.end(), unpackedBytes };
  } finally {
    closeSync(fd);
  }
}

/** zstd at the pack's fixed parameters, straight into a file: one output buffer, reused. */
class PayloadCompressor {
  private readonly cctx = new binding.CCtx();
  private readonly out = Buffer.allocUnsafe(4 << 20);
  private filled = 0;
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private readonly fd: number;

  constructor(fd: number, level: number) {
    this.fd = fd;
    const p = binding.CParameter;
    this.cctx.setParameter(p.compressionLevel, level);
    this.cctx.setParameter(p.windowLog, windowLog);
    this.cctx.setParameter(p.contentSizeFlag, 0);
    this.cctx.setParameter(p.checksumFlag, 1);
    this.cctx.setParameter(p.nbWorkers, 0);
  }

  write(chunk: Buffer): void {
    this.run(chunk, binding.EndDirective.continue);
  }

  end(): { bytes: number; sha256: string } {
    this.run(Buffer.alloc(0), binding.EndDirective.end);
    this.flush();
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  private run(chunk: Buffer, op: number): void {
    let src = chunk;
    for (;;) {
      const [ret, produced, consumed] = this.cctx.compressStream2(
        this.out.subarray(this.filled),
        src,
        op,
      );
      this.filled += produced;
      src = src.subarray(consumed);
      if (this.out.length - this.filled < 256 << 10) this.flush();
      if (src.length === 0 && (op === binding.EndDirective.continue || ret === 0)) return;
    }
  }

  private flush(): void {
    const b = this.out.subarray(0, this.filled);
    this.hash.update(b);
    for (let off = 0; off < b.length; ) off += writeSync(this.fd, b, off, b.length - off);
    this.bytes += b.length;
    this.filled = 0;
  }
}

/** A payload entry's tar header: no owner, no time (the same tree always gives the same bytes). */
function tarHeader(name: string, size: number, mode: number) {
  return { name, size, mode, mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' };
}

/** Reads one file into the tar, hashing it: a file that is not what the manifest says is refused. */
async function addEntry(pack: tar.Pack, e: PayloadEntry): Promise<void> {
  if (!('source' in e)) {
    const special = {
      ...tarHeader(e.path, 0, e.mode),
      ...('target' in e
        ? { type: 'symlink' as const, linkname: e.target }
        : { type: 'directory' as const }),
    };
    await new Promise<void>((res, rej) =>
      pack.entry(special, Buffer.alloc(0), (err) => (err ? rej(err) : res())),
    );
    return;
  }
  const header = { ...tarHeader(e.path, e.size, e.mode), type: 'file' as const };
  const hash = createHash('sha256');
  const fd = openSync(e.source, 'r');
  try {
    let n = 0;
    // One byte more than the manifest says, so a file that grew is noticed.
    const next = (): Buffer => {
      const buf = Buffer.allocUnsafe(Math.min(readBytes, e.size - n + 1));
      let got = 0;
      for (let r = 1; r > 0 && got < buf.length; got += r)
        r = readSync(fd, buf, got, buf.length - got, null);
      n += got;
      const c = buf.subarray(0, got);
      hash.update(c);
      return c;
    };
    const mismatch = () =>
      inputError(
        `${e.source} does not match its release manifest (${e.size} bytes, sha256 ${e.sha256.slice(0, 12)}…): it was changed after the manifest was written, or while the pack was being built`,
        'Rebuild the release tree, and build from a tree nothing writes to.',
        e.source,
      );
    if (e.size < readBytes) {
      const body = next();
      if (n !== e.size || hash.digest('hex') !== e.sha256) throw mismatch();
      await new Promise<void>((res, rej) =>
        pack.entry(header, body, (err) => (err ? rej(err) : res())),
      );
      return;
    }
    await new Promise<void>((res, rej) => {
      const sink = pack.entry(header, (err) => (err ? rej(err) : res()));
      sink.on('error', () => {});
      const pump = async () => {
        for (;;) {
          const c = next();
          if (c.length === 0 || n > e.size) break;
          if (!sink.write(c)) await drained(sink as unknown as NodeJS.EventEmitter);
        }
        if (n !== e.size || hash.digest('hex') !== e.sha256) throw mismatch();
        sink.end(undefined);
      };
      pump().catch((err: unknown) => {
        sink.destroy(err as Error);
        rej(err);
      });
    });
  } finally {
    closeSync(fd);
  }
}
