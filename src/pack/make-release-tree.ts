import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import { scriptPrefix } from './format.ts';
import { hashFileSync, type ReleaseManifest } from './release-tree.ts';
import { linkTargetProblem, octal, pathProblem } from './safe-path.ts';
import { PlatformId } from './schema.ts';

export interface MakeReleaseTreeOptions {
  /** Any folder: a fresh installation, an `npm install` folder… */
  dir: string;
  product: string;
  version: string;
  /** The release tree to write (`OUT/tree`, `OUT/manifest.json`); absent or an empty directory. */
  out: string;
  platform?: string;
  /** Called every {@link progressEvery} files and once at the end. */
  onProgress?: (p: MakeProgress) => void;
}

export interface MakeProgress {
  files: number;
  totalFiles: number;
  bytes: number;
  totalBytes: number;
}

export interface MakeReleaseTreeResult {
  out: string;
  manifest: string;
  files: number;
  symlinks: number;
  directories: number;
  bytes: number;
  /** Modes a pack cannot carry, made carriable (world-write and setuid/setgid/sticky dropped). */
  adjusted: { path: string; from: number; to: number }[];
}

export const progressEvery = 500;

/** The bits safe-path.ts `modeProblem` refuses: dropped from the copy, and reported. */
const unsafeBits = 0o7000 | 0o002;

function inputError(message: string, hint: string, file?: string, path?: string): UpliftError {
  return new UpliftError('UPLIFT_PACK_BUILD_INPUT', message, {
    hint,
    location: file ? { file, ...(path ? { path } : {}) } : undefined,
    unchanged: true,
  });
}

type Entry =
  | { kind: 'file'; path: string; size: number; mode: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'directory'; path: string; mode: number };

/**
 * Writes a release tree (products/skiff/layout.md, "Release trees") from any folder: `OUT/tree`,
 * a copy of `dir` with its regular files, symbolic links and empty directories, and
 * `OUT/manifest.json` listing each with its size, mode and SHA-256 (of the copy) or target.
 *
 * The folder is read and checked entirely before anything is written: a link whose target is
 * absolute or leaves the folder, a socket, FIFO or device, or a name a pack cannot carry is
 * refused, naming the path, and nothing is written. The tree is then written into
 * `OUT.partial-*` beside `OUT` and renamed into place, so `OUT` is either absent or complete.
 */
export function makeReleaseTree(o: MakeReleaseTreeOptions): MakeReleaseTreeResult {
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(o.product))
    throw inputError(
      `--product ${JSON.stringify(o.product)} is not a product id`,
      'Use the product id of its profile (uplift profiles lists them), in lowercase.',
    );
  if (o.version.trim() === '' || o.version.length > 200)
    throw inputError(`--version ${JSON.stringify(o.version)} is not a version`, 'Use e.g. 6.8.0.');
  if (o.platform !== undefined && !PlatformId.safeParse(o.platform).success)
    throw inputError(
      `--platform ${JSON.stringify(o.platform)} is not a platform id`,
      'Use the id detection reports, e.g. linux-x86-64 or linux-arm64 (uplift facts shows it).',
    );
  const dir = resolve(o.dir);
  const out = resolve(o.out);
  let top: Stats;
  try {
    top = statSync(dir);
  } catch {
    throw inputError(`${dir} does not exist`, 'Give the folder to make a release tree of.', dir);
  }
  if (!top.isDirectory())
    throw inputError(
      `${dir} is not a directory`,
      'Give the folder to make a release tree of.',
      dir,
    );
  if (out === dir || out.startsWith(`${dir}${sep}`))
    throw inputError(
      `--out ${out} lies inside ${dir}, which would copy the release tree into itself`,
      'Write the release tree outside the folder.',
      out,
    );
  refuseNonEmpty(out);

  const entries = scan(dir);
  const adjusted: MakeReleaseTreeResult['adjusted'] = [];
  let totalBytes = 0;
  let totalFiles = 0;
  for (const e of entries) {
    if (e.kind === 'symlink') continue;
    if (e.kind === 'file') {
      totalBytes += e.size;
      totalFiles++;
    }
    if (e.mode & unsafeBits) {
      const to = e.mode & ~unsafeBits;
      adjusted.push({ path: e.path, from: e.mode, to });
      e.mode = to;
    }
  }

  const partial = join(
    dirname(out),
    `${basename(out)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const manifest: Required<Omit<ReleaseManifest, 'created' | 'platform'>> &
    Pick<ReleaseManifest, 'platform'> = {
    product: o.product,
    version: o.version,
    ...(o.platform === undefined ? {} : { platform: o.platform }),
    files: [],
    symlinks: [],
    directories: [],
  };
  const progress: MakeProgress = { files: 0, totalFiles, bytes: 0, totalBytes };
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    mkdirSync(dirname(out), { recursive: true });
    mkdirSync(join(partial, 'tree'), { recursive: true, mode: 0o755 });
    const tree = join(partial, 'tree');
    for (const e of entries) {
      const dest = join(tree, e.path);
      if (e.kind === 'directory') {
        mkdirSync(dest, { recursive: true, mode: 0o755 });
        manifest.directories.push({ path: e.path, mode: e.mode });
        continue;
      }
      mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
      if (e.kind === 'symlink') {
        symlinkSync(e.target, dest);
        manifest.symlinks.push({ path: e.path, target: e.target });
        continue;
      }
      copyFileSync(join(dir, e.path), dest, constants.COPYFILE_FICLONE);
      chmodSync(dest, e.mode);
      // The copy is hashed, not the source: the manifest then describes the tree exactly even if
      // something wrote to the folder meanwhile.
      const st = lstatSync(dest);
      manifest.files.push({
        path: e.path,
        size: st.size,
        mode: e.mode,
        sha256: hashFileSync(dest, buf),
      });
      progress.files++;
      progress.bytes += st.size;
      if (progress.files % progressEvery === 0) o.onProgress?.({ ...progress });
    }
    // Empty directories get their mode last: a read-only one would refuse its own creation above.
    for (const d of manifest.directories) chmodSync(join(tree, d.path), d.mode);
    const file = join(partial, 'manifest.json');
    writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o644 });
    fsyncFile(file);
    renameSync(partial, out);
    fsyncFile(dirname(out));
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw new UpliftError(
      'UPLIFT_PACK_BUILD_INPUT',
      `cannot write the release tree ${out}: ${(err as Error).message}`,
      {
        hint: `Give --out a new directory on a filesystem with room for ${totalBytes} bytes.`,
        location: { file: out },
        cause: err,
        unchanged: true,
      },
    );
  }
  o.onProgress?.({ ...progress });
  return {
    out,
    manifest: join(out, 'manifest.json'),
    files: manifest.files.length,
    symlinks: manifest.symlinks.length,
    directories: manifest.directories.length,
    bytes: progress.bytes,
    adjusted,
  };
}

function refuseNonEmpty(out: string): void {
  let st: Stats;
  try {
    st = lstatSync(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isDirectory() || readdirSync(out).length > 0)
    throw inputError(
      `--out ${out} already exists${st.isDirectory() ? ' and is not empty' : ' and is not a directory'}`,
      'Give --out a new or empty directory; uplift never writes over a release tree.',
      out,
    );
}

/**
 * Every entry under `dir`, sorted by path, parents before children; directories only when empty.
 * Synchronous, as readReleaseTree's walk: thousands of small calls, nothing else to wait for.
 */
function scan(dir: string): Entry[] {
  const out: Entry[] = [];
  const refuse = (path: string, problem: string, hint: string): never => {
    throw inputError(`${join(dir, path)} ${problem}`, hint, join(dir, path), path);
  };
  const visit = (rel: string): void => {
    const names = readdirSync(rel === '' ? dir : join(dir, rel)).sort();
    if (names.length === 0 && rel !== '') {
      out.push({ kind: 'directory', path: rel, mode: lstatSync(join(dir, rel)).mode & 0o7777 });
      return;
    }
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const named = pathProblem(path);
      if (named)
        refuse(
          path,
          `has a name that ${named}`,
          'Rename or remove it: packs carry only plain relative names.',
        );
      if (path === scriptPrefix.slice(0, -1))
        refuse(
          path,
          `uses the name ${scriptPrefix}, which packs reserve for their scripts`,
          'Leave it out of the folder.',
        );
      const st = lstatSync(join(dir, path));
      if (st.isDirectory()) visit(path);
      else if (st.isFile()) out.push({ kind: 'file', path, size: st.size, mode: st.mode & 0o7777 });
      else if (st.isSymbolicLink()) {
        const target = readlinkSync(join(dir, path));
        const bad = linkTargetProblem(path, target);
        if (bad)
          refuse(
            path,
            `is a symbolic link that ${bad}`,
            'Packs carry only links that stay inside the tree: make it relative and inside, or replace it with what it points at.',
          );
        out.push({ kind: 'symlink', path, target });
      } else
        refuse(
          path,
          'is not a regular file, directory or symbolic link (a socket, FIFO or device)',
          'Remove it from the folder: a release carries files only.',
        );
    }
  };
  visit('');
  return out;
}

function fsyncFile(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** For messages: `0o4755 → 0755`. */
export function describeAdjusted(a: MakeReleaseTreeResult['adjusted'][number]): string {
  return `${a.path}: mode ${octal(a.from)} → ${octal(a.to)}`;
}
