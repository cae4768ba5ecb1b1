import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { UpliftError } from '../errors/index.ts';
import { type PrivateKey, signBytes } from '../signing/index.ts';
import { encodeHeader, maxManifestBytes } from './format.ts';
import { loadMigrations, noMigrations } from './migrations.ts';
import { readReleaseTree, type TreeFile } from './release-tree.ts';
import { type PackFile, type PackManifest, PlatformId } from './schema.ts';
import { patternOf, schemeFor } from './versions.ts';
import { compressStream, zstdLevel } from './zstd.ts';

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
  const [a, b] = await Promise.all([readReleaseTree(o.fromTree), readReleaseTree(o.toTree)]);
  if (a.product !== b.product)
    throw inputError(
      `the from tree is ${a.product} and the to tree is ${b.product}`,
      'Give two release trees of the same product.',
      o.toTree,
    );
  const scheme = await schemeFor(b.product);
  if (!scheme)
    throw inputError(
      `no profile describes the product ${b.product}, so its versions cannot be compared`,
      'Build packs for a product uplift has a profile for (uplift profiles lists them).',
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
  const migrations = o.migrations ? await loadMigrations(o.migrations) : noMigrations;

  const files = diffTrees(a.files, b.files, o.delta === true);
  const changed = files.filter((f) => f.action !== 'delete') as (PackFile & TreeFile)[];
  const entries = [
    ...migrations.scripts.map((s) => ({ ...s.entry, source: s.source })),
    ...changed.map((f) => ({
      path: f.path,
      size: f.size,
      mode: f.mode,
      sha256: f.sha256,
      source: join(b.tree, f.path),
    })),
  ].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  let growth = 0;
  for (const f of files) {
    const old = a.files.get(f.path)?.size ?? 0;
    growth += f.action === 'delete' ? -old : f.action === 'replace' ? f.size - old : f.size;
  }

  const out = resolve(o.out);
  await mkdir(dirname(out), { recursive: true });
  const payloadTmp = join(dirname(out), `.${basename(out)}.payload-${process.pid}`);
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}`);
  try {
    const level = o.level ?? zstdLevel;
    const payload = await writePayload(entries, payloadTmp, level);
    const manifest: PackManifest = {
      format: 'uplift-pack/1',
      product: b.product,
      kind: o.delta ? 'delta' : 'full',
      from: { range, version: a.version },
      to: b.version,
      platform: o.platform,
      build,
      created: new Date(created).toISOString(),
      files,
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
      for await (const chunk of createReadStream(payloadTmp, { highWaterMark: 1 << 20 })) {
        await fh.write(chunk as Buffer);
        whole.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
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

interface PayloadEntry {
  path: string;
  size: number;
  mode: number;
  sha256: string;
  source: string;
}

async function writePayload(
  entries: PayloadEntry[],
  file: string,
  level: number,
): Promise<{ bytes: number; sha256: string; unpackedBytes: number }> {
  const pack = tar.pack({ highWaterMark: 4 << 20 });
  let unpackedBytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      unpackedBytes += chunk.length;
      cb(null, chunk);
    },
  });
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  const piped = pipeline(
    pack,
    count,
    compressStream(level),
    tap,
    createWriteStream(file, { flags: 'wx', mode: 0o600 }),
  );
  piped.catch(() => {});
  try {
    for (const e of entries) await addEntry(pack, e);
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await piped.catch(() => {});
    throw err;
  }
  await piped;
  return { bytes, sha256: hash.digest('hex'), unpackedBytes };
}

/** Streams one file into the tar, hashing it again: a file changed since it was read is refused. */
async function addEntry(pack: tar.Pack, e: PayloadEntry): Promise<void> {
  const hash = createHash('sha256');
  let n = 0;
  await new Promise<void>((res, rej) => {
    const sink = pack.entry(
      {
        name: e.path,
        type: 'file',
        size: e.size,
        mode: e.mode,
        mtime: new Date(0),
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
      },
      (err) => (err ? rej(err) : res()),
    );
    const pump = async () => {
      for await (const chunk of createReadStream(e.source, { highWaterMark: 1 << 20 })) {
        const c = chunk as Buffer;
        n += c.length;
        if (n > e.size) break;
        hash.update(c);
        if (!sink.write(c)) await drained(sink as unknown as NodeJS.EventEmitter);
      }
      if (n !== e.size || hash.digest('hex') !== e.sha256)
        throw inputError(
          `${e.source} changed while the pack was being built`,
          'Build again from a tree nothing writes to.',
          e.source,
        );
      sink.end(undefined);
    };
    pump().catch((err: unknown) => {
      sink.destroy(err as Error);
      rej(err);
    });
  });
}

function drained(sink: NodeJS.EventEmitter): Promise<void> {
  return new Promise((res, rej) => {
    const done = () => {
      sink.off('close', closed);
      res();
    };
    const closed = () => {
      sink.off('drain', done);
      rej(new Error('archive stream closed'));
    };
    sink.once('drain', done);
    sink.once('close', closed);
  });
}
