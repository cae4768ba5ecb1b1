import { createHash } from 'node:crypto';
import {
  closeSync,
  type Dirent,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
} from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UpliftError } from '../errors/index.ts';
import { formatPath } from '../yaml/index.ts';
import { scriptPrefix } from './format.ts';
import { linkTargetProblem, modeProblem, octal, pathProblem } from './safe-path.ts';
import { FileMode, LinkTarget, PackPath, PlatformId, Sha256 } from './schema.ts';

/** One regular file of a release manifest. */
export const ReleaseFile = z.strictObject({
  path: PackPath,
  size: z.number().int().nonnegative(),
  mode: FileMode,
  sha256: Sha256,
});

/** `<dir>/manifest.json` of a release tree (products/skiff/layout.md, "Release trees"). */
export const ReleaseManifest = z.object({
  product: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  version: z.string().min(1).max(200),
  /** Optional release time; when present it becomes the pack's `created`. */
  created: z.iso.datetime().optional(),
  /** Optional platform id the release is built for; a pack built from it must be for the same. */
  platform: PlatformId.optional(),
  /** Every regular file. */
  files: z.array(ReleaseFile),
  /** Every symbolic link, with its target exactly as readlink gives it (relative, inside the tree). */
  symlinks: z.array(z.strictObject({ path: PackPath, target: LinkTarget })).optional(),
  /**
   * Every empty directory. When the key is present the list is checked against the tree; an older
   * manifest without it cannot name empty directories, and the walk passes over them.
   */
  directories: z.array(z.strictObject({ path: PackPath, mode: FileMode })).optional(),
});
export type ReleaseManifest = z.infer<typeof ReleaseManifest>;

/** The manifest with its file list unchecked: readReleaseTree checks the entries itself. */
const ReleaseManifestHead = ReleaseManifest.extend({ files: z.array(z.unknown()) });

const sha256Hex = /^[0-9a-f]{64}$/;

/**
 * True when `v` is certainly a valid {@link ReleaseFile}: a plain check of the common case, for
 * thousands of entries before the first frame of every build (zod's checks took 20–40 ms per
 * 20,000). It never accepts what ReleaseFile refuses (tested); what it does not accept goes to
 * ReleaseFile itself, whose verdict and message stand.
 */
export function plainReleaseFile(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  if (Object.keys(o).length !== 4) return false;
  const { path, size, mode, sha256 } = o;
  return (
    typeof path === 'string' &&
    path.length >= 1 &&
    path.length <= 4096 &&
    Number.isSafeInteger(size) &&
    (size as number) >= 0 &&
    Number.isSafeInteger(mode) &&
    (mode as number) >= 0 &&
    (mode as number) <= 0o7777 &&
    typeof sha256 === 'string' &&
    sha256Hex.test(sha256)
  );
}

export interface TreeFile {
  path: string;
  size: number;
  mode: number;
  sha256: string;
}

export interface TreeLink {
  path: string;
  target: string;
}

export interface TreeDirectory {
  path: string;
  mode: number;
}

export interface ReleaseTreeInput {
  dir: string;
  tree: string;
  product: string;
  version: string;
  /** When the manifest says, else the manifest file's mtime (a release tree sets it to the release date). */
  created: string;
  platform?: string;
  files: Map<string, TreeFile>;
  symlinks: Map<string, TreeLink>;
  /** Empty directories. */
  directories: Map<string, TreeDirectory>;
}

function inputError(message: string, file: string, hint: string, path?: string): UpliftError {
  return new UpliftError('UPLIFT_PACK_BUILD_INPUT', message, {
    hint,
    location: { file, path },
  });
}

export interface ReadTreeOptions {
  /**
   * Files the caller checks itself as it reads them (a build, for the files it packs): that each is
   * a regular file of the manifest's size, mode and SHA-256 (fstat of the file it opened, and the
   * hash of what it read). Here they are only found in the tree (a directory listing gives their
   * type), so each is opened once and never stat'ed by path. Called with the manifest's claim, once
   * every listed file is known.
   */
  hashedLater?: (f: TreeFile) => boolean;
  /**
   * Nothing of the tree itself is used (a full pack's from tree: none of its bytes enters the pack;
   * only its version and the manifest's list, for each file's action and the space estimate): the
   * manifest is checked, the tree is not walked.
   */
  contentUnused?: boolean;
}

/**
 * Reads a release tree and checks that its files are exactly what its manifest says (path, size,
 * mode, SHA-256): the walk of the tree is the truth, the manifest only a claim.
 */
export async function readReleaseTree(
  dir: string,
  o: ReadTreeOptions = {},
): Promise<ReleaseTreeInput> {
  const manifestFile = join(dir, 'manifest.json');
  const tree = join(dir, 'tree');
  let text: string;
  try {
    text = await readFile(manifestFile, 'utf8');
  } catch {
    throw inputError(
      `${dir} is not a release tree: ${manifestFile} cannot be read`,
      manifestFile,
      'Give a directory holding tree/ and manifest.json (docs/pack-format.md, "Release trees").',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw inputError(
      `${manifestFile} is not JSON: ${(err as Error).message}`,
      manifestFile,
      'Rebuild the release tree.',
    );
  }
  const parsed = ReleaseManifestHead.safeParse(json);
  let issue = parsed.success ? undefined : parsed.error.issues[0];
  for (const [i, f] of (parsed.data?.files ?? []).entries()) {
    if (issue) break;
    if (plainReleaseFile(f)) continue;
    const bad = ReleaseFile.safeParse(f).error?.issues[0];
    if (bad) issue = { ...bad, path: ['files', i, ...bad.path] };
  }
  if (!parsed.success || issue) {
    const path = formatPath(issue?.path ?? []);
    throw inputError(
      `${manifestFile}: ${path}: ${issue?.message}`,
      manifestFile,
      'A release manifest is { product, version, files: [{ path, size, mode, sha256 }], symlinks?: [{ path, target }], directories?: [{ path, mode }] }.',
      path,
    );
  }
  const m = parsed.data as ReleaseManifest;
  const listed = new Map<string, TreeFile>();
  const names = new Set<string>();
  const claim = (path: string, field: string) => {
    const problem =
      pathProblem(path) ??
      (path.startsWith(scriptPrefix) ? `lies under the reserved ${scriptPrefix}` : undefined);
    if (problem)
      throw inputError(
        `${manifestFile}: ${field} ${JSON.stringify(path)} ${problem}`,
        manifestFile,
        'Release files need plain relative paths.',
        field,
      );
    if (names.has(path))
      throw inputError(
        `${manifestFile}: ${path} is listed twice`,
        manifestFile,
        'List each file, link and directory once.',
        field,
      );
    names.add(path);
  };
  const links = new Map<string, TreeLink>();
  for (const [i, l] of (m.symlinks ?? []).entries()) {
    claim(l.path, `symlinks[${i}].path`);
    const bad = linkTargetProblem(l.path, l.target);
    if (bad)
      throw inputError(
        `${manifestFile}: the symbolic link ${l.path} ${bad}`,
        manifestFile,
        'Release links must point inside the tree by a relative path.',
        `symlinks[${i}].target`,
      );
    links.set(l.path, l);
  }
  const emptyDirs = new Map<string, TreeDirectory>();
  for (const [i, d] of (m.directories ?? []).entries()) {
    claim(d.path, `directories[${i}].path`);
    const bad = modeProblem(d.mode);
    if (bad)
      throw inputError(
        `${manifestFile}: the directory ${d.path} has mode ${octal(d.mode)}, which ${bad}`,
        manifestFile,
        'Packs carry only ordinary permission bits: drop setuid/setgid/sticky and world-write.',
        `directories[${i}].mode`,
      );
    emptyDirs.set(d.path, d);
  }
  for (const [i, f] of m.files.entries()) {
    claim(f.path, `files[${i}].path`);
    const bad = modeProblem(f.mode);
    if (bad)
      throw inputError(
        `${manifestFile}: ${f.path} has mode ${octal(f.mode)}, which ${bad}`,
        manifestFile,
        'Packs carry only ordinary permission bits: drop setuid/setgid/sticky and world-write.',
        `files[${i}].mode`,
      );
    listed.set(f.path, f);
  }

  const created = m.created ?? (await stat(manifestFile)).mtime.toISOString();
  const result: ReleaseTreeInput = {
    dir,
    tree,
    product: m.product,
    version: m.version,
    created,
    ...(m.platform === undefined ? {} : { platform: m.platform }),
    files: listed,
    symlinks: links,
    directories: emptyDirs,
  };
  if (o.contentUnused) return result;

  const seen = new Set<string>();
  // Synchronous: the walk and the hashing are the whole job here, and thousands of small
  // asynchronous calls spent more time waiting on the thread pool than working. The listing's
  // types (d_type; Node falls back to lstat where the file system gives none) spare a stat per entry.
  const walk = (rel: string, entries: Dirent[]): void => {
    entries.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    for (const entry of entries) {
      const name = entry.name;
      const path = rel === '' ? name : `${rel}/${name}`;
      const where = join(tree, path);
      if (entry.isDirectory()) {
        const inside = readdirSync(where, { withFileTypes: true });
        const d = emptyDirs.get(path);
        if (d) {
          const mode = lstatSync(where).mode & 0o7777;
          if (inside.length > 0 || mode !== d.mode)
            throw inputError(
              `${where} disagrees with ${manifestFile}: listed as an empty directory of mode ${octal(d.mode)}; the tree has ${inside.length} entries in it, mode ${octal(mode)}`,
              where,
              'The tree was changed after its manifest was written: rebuild the release tree.',
            );
          seen.add(path);
          continue;
        }
        if (m.directories !== undefined && inside.length === 0)
          throw inputError(
            `${where} is an empty directory in the tree but not in ${manifestFile}`,
            where,
            'Rebuild the release tree so its manifest lists every empty directory.',
          );
        walk(path, inside);
        continue;
      }
      if (entry.isSymbolicLink()) {
        const l = links.get(path);
        const target = readlinkSync(where);
        if (!l)
          throw inputError(
            `${where} is a symbolic link in the tree but not in ${manifestFile}`,
            where,
            'Rebuild the release tree so its manifest lists every symbolic link (uplift release-tree make).',
          );
        if (l.target !== target)
          throw inputError(
            `${where} disagrees with ${manifestFile}: manifest target ${JSON.stringify(l.target)}, tree ${JSON.stringify(target)}`,
            where,
            'The tree was changed after its manifest was written: rebuild the release tree.',
          );
        seen.add(path);
        continue;
      }
      if (!entry.isFile())
        throw inputError(
          `${where} is not a regular file, directory or symbolic link; packs cannot carry it`,
          where,
          'Leave sockets, FIFOs and devices out of the release tree.',
        );
      const f = listed.get(path);
      if (!f)
        throw inputError(
          `${where} is in the tree but not in ${manifestFile}`,
          where,
          'Rebuild the release tree so its manifest lists every file.',
        );
      seen.add(path);
      if (o.hashedLater?.(f)) continue;
      const st = lstatSync(where);
      const sha256 = f.size !== st.size ? '' : hashFileSync(where, readBuffer());
      const problem = treeFileProblem(f, st, sha256);
      if (problem) throw treeFileError(where, manifestFile, problem);
    }
  };
  try {
    walk('', readdirSync(tree, { withFileTypes: true }));
  } catch (err) {
    if (err instanceof UpliftError) throw err;
    throw inputError(
      `${tree} cannot be read: ${(err as Error).message}`,
      tree,
      'Give a directory holding tree/ and manifest.json.',
    );
  }
  for (const path of names)
    if (!seen.has(path))
      throw inputError(
        `${manifestFile} lists ${path}, which is not in ${tree}`,
        manifestFile,
        'Rebuild the release tree.',
      );
  return result;
}

/**
 * How a file of the tree differs from its manifest entry, or undefined when it does not. `sha256`
 * is the file's, or empty when it was not hashed (as when the size already differs), or undefined
 * when it is not compared here (the caller hashes it as it reads it).
 */
export function treeFileProblem(
  f: TreeFile,
  st: { size: number; mode: number; isFile(): boolean },
  sha256: string | undefined,
): string | undefined {
  const mode = st.mode & 0o7777;
  const same = sha256 === undefined || f.sha256 === sha256;
  if (st.isFile() && f.size === st.size && same && f.mode === mode) return undefined;
  const kind = st.isFile() ? '' : 'not a regular file, ';
  return `manifest ${f.size} bytes, mode ${octal(f.mode)}, sha256 ${f.sha256.slice(0, 12)}…; tree ${kind}${st.size} bytes, mode ${octal(mode)}${sha256 ? `, sha256 ${sha256.slice(0, 12)}…` : ''}`;
}

/** A tree file that disagrees with its manifest ({@link treeFileProblem}). */
export function treeFileError(where: string, manifestFile: string, problem: string): UpliftError {
  return inputError(
    `${where} disagrees with ${manifestFile}: ${problem}`,
    where,
    'The tree was changed after its manifest was written: rebuild the release tree.',
  );
}

let shared: Buffer | undefined;
/** One read buffer for every hash: the reads are synchronous, so it is never used twice at once. */
function readBuffer(): Buffer {
  shared ??= Buffer.allocUnsafe(1 << 20);
  return shared;
}

/**
 * SHA-256 of a file with synchronous reads into a reused buffer: release trees have thousands of
 * files, and a read stream per file cost several times the hashing (5.95 s against 1.26 s for a
 * 256 MiB, 5,000-file tree).
 */
export function hashFileSync(file: string, buf: Buffer): string {
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    for (
      let n = readSync(fd, buf, 0, buf.length, null);
      n > 0;
      n = readSync(fd, buf, 0, buf.length, null)
    )
      hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export async function hashFile(file: string): Promise<string> {
  return hashFileSync(file, readBuffer());
}
