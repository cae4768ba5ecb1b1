import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fchmodSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, rm, statfs, symlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UpliftError, unwritablePathError } from '../errors/index.ts';
import { type TrustSet, verifyEnvelope } from '../signing/index.ts';
import { packError, q } from './errors.ts';
import { migrationPathProblem, migrationPaths } from './migration-paths.ts';
import { openPayload, type PayloadSource } from './payload-source.ts';
import {
  type PackHead,
  type PayloadEntry,
  parseManifest,
  parseSignature,
  payloadEntries,
  readHead,
} from './read-head.ts';
import { linkTargetProblem, modeProblem, octal, pathProblem } from './safe-path.ts';
import type { PackManifest } from './schema.ts';
import { TarReader } from './tar-read.ts';
import { patternOf, schemeFor } from './versions.ts';
import { FrameError, UnpackedLimitError } from './zstd.ts';

export interface InstalledVersion {
  product: string;
  version: string;
  platform: string;
}

export interface VerifyOptions {
  /** Keys whose signatures are accepted, and revoked key ids. */
  trust: TrustSet;
  /** The installation the pack is for: its product, version and platform must fit the pack. */
  install?: InstalledVersion;
  /** The platform the pack must be built for (default: the installation's). */
  platform?: string;
  /** A new directory (created 0700) to write every payload file into while it is verified. */
  stageInto?: string;
  /** The version scheme id (default: the catalog's of the profile named like the product). */
  versionScheme?: string;
  /**
   * The profile's data globs (`paths.data` and `paths.databases`): with them, every database a
   * migration names must match one. Without them only the lexical rule is checked.
   */
  dataGlobs?: readonly string[];
  /** The expansion ratio allowed (default {@link defaultMaxExpand}); `--max-expand`. */
  maxExpand?: number;
  onProgress?: (bytesRead: number, total: number) => void;
  /**
   * Whether to compute the whole file's SHA-256 (default true): one more hash of every compressed
   * byte. Without it the result has no `sha256`; every check is the same.
   */
  fileSha256?: boolean;
}

export interface VerifyResult {
  manifest: PackManifest;
  keyid: string;
  /** Size and SHA-256 of the whole pack file (no SHA-256 when `fileSha256` was false). */
  bytes: number;
  sha256: string;
  /** The staging directory, when `stageInto` was given. */
  staged?: string;
}

/**
 * Verifies a pack in one streaming read pass, in this order: header and lengths, signature and
 * trust, manifest (schema, paths, modes), policy (platform, from-range, downgrade), then the
 * payload: compressed size and hash, every tar entry a regular file with a safe, listed, unique
 * name and the listed size and hash, nothing missing, nothing after the payload.
 *
 * With `stageInto`, each payload file is written into that new directory as it is hashed. On any
 * failure the directory is removed and an UpliftError with the failure's own code is thrown;
 * nothing else is ever written.
 */
export async function verifyPack(
  file: string,
  o: VerifyOptions & { fileSha256?: true },
): Promise<VerifyResult>;
export async function verifyPack(
  file: string,
  o: VerifyOptions,
): Promise<Omit<VerifyResult, 'sha256'> & { sha256?: string }>;
export async function verifyPack(
  file: string,
  o: VerifyOptions,
): Promise<Omit<VerifyResult, 'sha256'> & { sha256?: string }> {
  const staging = o.stageInto === undefined ? undefined : resolve(o.stageInto);
  if (staging !== undefined) await refuseExisting(file, staging);
  const fh = await openPack(file);
  try {
    const total = (await fh.stat()).size;
    const head = await readHead(fh, file, total);
    const keyid = checkSignature(file, head, o.trust);
    const manifest = parseManifest(file, head.manifestBytes);
    checkMigrationPaths(file, manifest, o.dataGlobs);
    await checkPolicy(file, manifest, o);
    const end = head.payloadAt + manifest.payload.bytes;
    if (total < end)
      throw packError(
        'UPLIFT_PACK_TRUNCATED',
        file,
        `it is ${total} bytes, but its manifest says the payload ends at byte ${end}`,
      );
    if (total > end)
      throw packError(
        'UPLIFT_PACK_TRAILING_DATA',
        file,
        `${total - end} bytes follow the end of the payload at byte ${end}`,
      );
    checkExpansion(file, manifest, o.maxExpand ?? defaultMaxExpand);
    if (staging !== undefined) await createStaging(file, staging, manifest.space.stage);
    const source = openPayload(fh, {
      at: head.payloadAt,
      bytes: manifest.payload.bytes,
      limit: manifest.payload.unpackedBytes,
      ...(o.fileSha256 === false
        ? {}
        : { head: [head.headerBuf, head.manifestBytes, head.signatureBytes] }),
      progress: (n) => o.onProgress?.(n, total),
    });
    let whole: string | undefined;
    try {
      whole = await readPayload(fh, file, head, manifest, source, staging);
    } catch (err) {
      if (staging !== undefined) await rm(staging, { recursive: true, force: true });
      throw err;
    } finally {
      await source.close();
    }
    return {
      manifest,
      keyid,
      bytes: total,
      ...(whole === undefined ? {} : { sha256: whole }),
      ...(staging === undefined ? {} : { staged: staging }),
    };
  } finally {
    await fh.close();
  }
}

export async function openPack(file: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `the pack ${file} does not exist`, {
        hint: "Fetch the packs the installation's plan needs, then give the path of one: give fetch the installation as --install and your repository's http(s):// URL or folder as --repo (they go to the fetch cache, or --out):\nuplift fetch --help",
        location: { file },
      });
    if (code === 'ELOOP')
      throw packError('UPLIFT_PACK_NOT_A_PACK', file, 'it is a symbolic link', {
        hint: 'Give the pack file itself.',
      });
    throw packError(
      'UPLIFT_PACK_NOT_A_PACK',
      file,
      `it cannot be read: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  if (!(await fh.stat()).isFile()) {
    await fh.close();
    throw new UpliftError('UPLIFT_FILE_UNREADABLE', `${file} is not a file`, {
      hint: 'Give the path of a pack file (.upk), not a folder.',
      location: { file },
    });
  }
  return fh;
}

function checkSignature(file: string, head: PackHead, trust: TrustSet): string {
  const sig = parseSignature(file, head);
  const verdict = verifyEnvelope(trust, head.manifestBytes, sig);
  if (verdict === 'ok') return sig.keyid;
  if (verdict === 'revoked')
    throw packError(
      'UPLIFT_PACK_KEY_REVOKED',
      file,
      `it is signed by key ${sig.keyid}, which is revoked`,
    );
  if (verdict === 'untrusted')
    throw packError(
      'UPLIFT_PACK_KEY_UNTRUSTED',
      file,
      `it is signed by key ${sig.keyid}, which the trust does not hold (${trust.keys.size} key(s) trusted)`,
    );
  throw packError(
    'UPLIFT_PACK_SIGNATURE_INVALID',
    file,
    `the signature by key ${sig.keyid} does not match the manifest (bytes ${head.headerBuf.length}–${head.payloadAt - 1})`,
  );
}

function checkMigrationPaths(
  file: string,
  m: PackManifest,
  dataGlobs: readonly string[] | undefined,
): void {
  for (const p of migrationPaths(m)) {
    const problem = migrationPathProblem(p, dataGlobs);
    if (problem)
      throw packError(
        'UPLIFT_PACK_MIGRATION_PATH',
        file,
        `manifest ${p.field} ${q(p.path)} ${problem}`,
        { path: p.field },
      );
  }
}

/**
 * The expansion a pack may declare: its unpacked payload (`payload.unpackedBytes`, or the sum of
 * its files' sizes if larger) at most `ratio` times its compressed payload. Below
 * {@link expansionFloor} any ratio passes: decoding that much takes about a second. Checked on
 * the signed manifest before a byte is decoded, so a bomb costs no decoding at all.
 */
export const defaultMaxExpand = 200;
export const expansionFloor = 128 << 20;

function checkExpansion(file: string, m: PackManifest, ratio: number): void {
  const declared = Math.max(m.payload.unpackedBytes, m.space.stage);
  if (declared <= expansionFloor) return;
  const compressed = Math.max(m.payload.bytes, 1);
  if (declared <= compressed * ratio) return;
  throw packError(
    'UPLIFT_PACK_EXPANSION',
    file,
    `its ${compressed}-byte payload declares ${declared} unpacked bytes, ${Math.round(declared / compressed)}:1; the limit is ${ratio}:1 above ${expansionFloor} bytes`,
    { path: 'payload.unpackedBytes' },
  );
}

async function checkPolicy(file: string, m: PackManifest, o: VerifyOptions): Promise<void> {
  const platform = o.platform ?? o.install?.platform;
  if (platform !== undefined && platform !== m.platform)
    throw packError(
      'UPLIFT_PACK_WRONG_PLATFORM',
      file,
      `it is built for ${m.platform}, not for ${platform}`,
      { path: 'platform' },
    );
  const scheme = await schemeFor(m.product, o.versionScheme);
  if (!scheme) {
    if (o.install === undefined) return;
    throw packError(
      'UPLIFT_PACK_FROM_MISMATCH',
      file,
      `no profile describes ${m.product}, so its versions cannot be compared with ${o.install.version}`,
    );
  }
  if (!scheme.isValid(m.to) || !scheme.isValid(m.from.version))
    throw packError(
      'UPLIFT_PACK_MANIFEST_INVALID',
      file,
      `manifest versions are not ${scheme.id} versions`,
      { path: 'to' },
    );
  if (scheme.compare(m.to, m.from.version) <= 0)
    throw packError(
      'UPLIFT_PACK_DOWNGRADE',
      file,
      `it goes from ${m.from.version} back to ${m.to}`,
      { path: 'to' },
    );
  const pattern = patternOf(m.from.range, scheme);
  if (typeof pattern === 'string')
    throw packError('UPLIFT_PACK_MANIFEST_INVALID', file, `manifest from.range: ${pattern}`, {
      path: 'from.range',
    });
  const i = o.install;
  if (i === undefined) return;
  if (i.product !== m.product)
    throw packError(
      'UPLIFT_PACK_FROM_MISMATCH',
      file,
      `it is a pack of ${m.product}; the installation is ${i.product}`,
      { path: 'product' },
    );
  if (!scheme.isValid(i.version))
    throw packError(
      'UPLIFT_PACK_FROM_MISMATCH',
      file,
      `the installed version ${q(i.version)} is not a ${scheme.id} version`,
    );
  if (scheme.compare(m.to, i.version) <= 0)
    throw packError(
      'UPLIFT_PACK_DOWNGRADE',
      file,
      `it brings ${m.to}, and the installation is already at ${i.version}`,
      { path: 'to' },
    );
  if (!pattern.matches(i.version))
    throw packError(
      'UPLIFT_PACK_FROM_MISMATCH',
      file,
      `it applies to ${q(m.from.range)}, which does not contain the installed ${i.version}`,
      { path: 'from.range' },
    );
}

async function refuseExisting(file: string, staging: string): Promise<void> {
  try {
    await lstat(staging);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw unwritablePathError(err, staging, '--stage') ?? err;
  }
  throw packError(
    'UPLIFT_PACK_STAGING_FAILED',
    file,
    `the staging directory ${staging} already exists`,
    {
      hint: 'Give a directory that does not exist yet; uplift creates it (mode 0700).',
    },
  );
}

/** The folder itself, or the nearest of its parents that exists: where a missing one would be made. */
async function nearestFolder(dir: string): Promise<string> {
  for (let d = dir; ; d = dirname(d)) {
    if ((await lstat(d).catch(() => undefined)) !== undefined || dirname(d) === d) return d;
  }
}

async function createStaging(file: string, staging: string, need: number): Promise<void> {
  try {
    const fs = await statfs(await nearestFolder(dirname(staging)));
    const free = fs.bavail * fs.bsize;
    // Staging never takes a filesystem's last bytes: a margin of 1 % of its size, at most
    // 16 MiB, stays free for whatever else writes there (logs, the journal).
    const margin = Math.min(16 << 20, Math.floor((fs.blocks * fs.bsize) / 100));
    if (free - margin < need)
      throw packError(
        'UPLIFT_PACK_STAGING_FAILED',
        file,
        `not enough free space to stage it: staging needs ${need} bytes (space.stage) and ${margin} kept free, and ${dirname(staging)} has ${free} free`,
      );
    await mkdir(dirname(staging), { recursive: true });
    await mkdir(staging, { mode: 0o700 });
  } catch (err) {
    if (err instanceof UpliftError) throw err;
    const unwritable = unwritablePathError(err, staging, '--stage');
    if (unwritable) throw unwritable;
    throw packError(
      'UPLIFT_PACK_STAGING_FAILED',
      file,
      `cannot create the staging directory ${staging}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

async function readPayload(
  fh: FileHandle,
  file: string,
  head: PackHead,
  m: PackManifest,
  source: PayloadSource,
  staging: string | undefined,
): Promise<string | undefined> {
  const expected = payloadEntries(m);
  const seen = new Set<string>();
  const dirs = new Set<string>();
  const links = new Set<string>();
  const reader = new TarReader();
  let current = '(the start of the payload)';
  /** The staged file being written (a descriptor: see {@link createStaged}). */
  let sink: number | undefined;
  /** The entry being read: a file being hashed, or a link or directory staged at its end. */
  let entry:
    | { name: string; want: Extract<PayloadEntry, { kind: 'file' }>; hash: Hash }
    | undefined;
  let special: { name: string; want: Exclude<PayloadEntry, { kind: 'file' }> } | undefined;
  try {
    for await (const chunk of source.output()) {
      reader.push(chunk);
      for (let ev = reader.next(); ev; ev = reader.next()) {
        if (ev.kind === 'data') {
          if (entry) {
            entry.hash.update(ev.data);
            if (sink !== undefined) writeAll(file, sink, ev.data);
          }
          continue;
        }
        if (ev.kind === 'end') {
          if (entry) {
            const sha = entry.hash.digest('hex');
            if (sha !== entry.want.sha256)
              throw packError(
                'UPLIFT_PACK_CORRUPT',
                file,
                `payload entry ${q(entry.name)} has SHA-256 ${sha}; the manifest says ${entry.want.sha256}`,
              );
            if (sink !== undefined) {
              const fd = sink;
              sink = undefined;
              try {
                fchmodSync(fd, entry.want.mode);
              } finally {
                closeSync(fd);
              }
            }
            entry = undefined;
          } else if (special) {
            if (staging !== undefined)
              await createSpecial(file, staging, special.name, special.want, dirs);
            if (special.want.kind === 'symlink') links.add(special.name);
            special = undefined;
          }
          continue;
        }
        const h = ev.header;
        // tar writes a directory's name with a trailing slash.
        const name = h.type === 'directory' ? h.name.replace(/\/$/, '') : h.name;
        current = name;
        const kind =
          h.type === 'file' || h.type === 'symlink' || h.type === 'directory' ? h.type : undefined;
        if (!kind)
          throw packError(
            'UPLIFT_PACK_UNSAFE_ENTRY',
            file,
            `payload entry ${q(h.name)} is a ${h.type}${h.linkname ? ` (to ${q(h.linkname)})` : ''}; packs hold regular files, and the symbolic links and empty directories their manifest lists`,
          );
        const problem = pathProblem(name);
        if (problem)
          throw packError('UPLIFT_PACK_UNSAFE_PATH', file, `payload entry ${q(h.name)} ${problem}`);
        // The manifest lists nothing under a link; an entry there is refused before anything else
        // is looked at, so that no write can ever go through a link staged a moment before.
        for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1))
          if (links.has(name.slice(0, i)))
            throw packError(
              'UPLIFT_PACK_UNSAFE_PATH',
              file,
              `payload entry ${q(name)} lies under the symbolic link ${q(name.slice(0, i))}`,
            );
        const badMode = kind === 'symlink' ? undefined : modeProblem(h.mode & 0o7777);
        if (badMode || (kind !== 'symlink' && h.mode > 0o7777))
          throw packError(
            'UPLIFT_PACK_UNSAFE_ENTRY',
            file,
            `payload entry ${q(h.name)} has mode ${octal(h.mode)}, which ${badMode ?? 'has bits beyond the permissions'}`,
          );
        if (seen.has(name))
          throw packError(
            'UPLIFT_PACK_ENTRY_DUPLICATE',
            file,
            `payload entry ${q(name)} occurs twice`,
          );
        const want = expected.get(name);
        if (want && want.kind !== kind)
          throw packError(
            'UPLIFT_PACK_UNSAFE_ENTRY',
            file,
            `payload entry ${q(name)} is a ${kind}; the manifest lists a ${want.kind} there`,
          );
        if (!want)
          throw kind === 'file'
            ? packError(
                'UPLIFT_PACK_ENTRY_UNLISTED',
                file,
                `payload entry ${q(name)} is not listed in the manifest as a file to add or replace`,
              )
            : packError(
                'UPLIFT_PACK_UNSAFE_ENTRY',
                file,
                `payload entry ${q(name)} is a ${kind}${h.linkname ? ` (to ${q(h.linkname)})` : ''} the manifest does not list`,
              );
        seen.add(name);
        if (want.kind !== 'file') {
          if (kind === 'symlink') {
            const bad = linkTargetProblem(name, h.linkname ?? '');
            if (bad)
              throw packError(
                'UPLIFT_PACK_UNSAFE_PATH',
                file,
                `payload entry ${q(name)} is a symbolic link that ${bad}`,
              );
          }
          if (want.kind === 'symlink' && h.linkname !== want.target)
            throw packError(
              'UPLIFT_PACK_CORRUPT',
              file,
              `payload entry ${q(name)} links to ${q(h.linkname ?? '')}; the manifest says ${q(want.target)}`,
            );
          if (want.kind === 'directory' && (h.mode & 0o7777) !== want.mode)
            throw packError(
              'UPLIFT_PACK_CORRUPT',
              file,
              `payload entry ${q(name)} has mode ${octal(h.mode)}; the manifest says ${octal(want.mode)}`,
            );
          special = { name, want };
          continue;
        }
        if (h.size > want.size)
          throw packError(
            'UPLIFT_PACK_SIZE_EXCEEDED',
            file,
            `payload entry ${q(h.name)} is ${h.size} bytes; the manifest says ${want.size}`,
          );
        if (h.size !== want.size || h.mode !== want.mode)
          throw packError(
            'UPLIFT_PACK_CORRUPT',
            file,
            `payload entry ${q(h.name)} is ${h.size} bytes mode ${octal(h.mode)}; the manifest says ${want.size} bytes mode ${octal(want.mode)}`,
          );
        if (staging !== undefined) sink = createStaged(file, staging, h.name, dirs);
        entry = { name: h.name, want, hash: createHash('sha256') };
      }
    }
    reader.finish();
  } catch (err) {
    if (sink !== undefined)
      try {
        closeSync(sink);
      } catch {
        // The failure that brought us here is the one to report.
      }
    throw await attribute(file, source, m, err, current);
  }
  const { count, payload: sha, whole } = await source.finish();
  if (count < m.payload.bytes)
    throw packError(
      'UPLIFT_PACK_TRUNCATED',
      file,
      `it ends ${m.payload.bytes - count} bytes before the end of its payload`,
    );
  if (await hasTrailing(fh, head.payloadAt + m.payload.bytes))
    throw packError(
      'UPLIFT_PACK_TRAILING_DATA',
      file,
      `bytes follow the end of the payload at byte ${head.payloadAt + m.payload.bytes}`,
    );
  if (sha !== m.payload.sha256)
    throw packError(
      'UPLIFT_PACK_CORRUPT',
      file,
      `the payload's SHA-256 is ${sha}; the manifest says ${m.payload.sha256}`,
    );
  for (const path of expected.keys())
    if (!seen.has(path))
      throw packError(
        'UPLIFT_PACK_ENTRY_MISSING',
        file,
        `the payload lacks ${q(path)}, which the manifest lists`,
      );
  return whole;
}

/**
 * A failure inside the payload is first checked against the signed payload hash: when the bytes
 * are not the signed ones the pack is damaged (CORRUPT or TRUNCATED) whatever the first symptom
 * was; when they are, the symptom is the pack's real defect and keeps its own code.
 */
async function attribute(
  file: string,
  source: PayloadSource,
  m: PackManifest,
  err: unknown,
  current: string,
): Promise<unknown> {
  const { count, payload: sha } = await source.finish();
  if (count < m.payload.bytes)
    return packError(
      'UPLIFT_PACK_TRUNCATED',
      file,
      `it ends ${m.payload.bytes - count} bytes before the end of its payload`,
      { cause: err },
    );
  const symptom = err instanceof Error ? err.message : String(err);
  if (sha !== m.payload.sha256)
    return packError(
      'UPLIFT_PACK_CORRUPT',
      file,
      `the payload's SHA-256 is ${sha}; the manifest says ${m.payload.sha256} (first symptom near ${q(current)}: ${symptom})`,
      { cause: err },
    );
  if (err instanceof UpliftError) return err;
  if (err instanceof UnpackedLimitError)
    return packError(
      'UPLIFT_PACK_SIZE_EXCEEDED',
      file,
      `the payload unpacks to more than the ${m.payload.unpackedBytes} bytes its manifest declares (near ${q(current)}${err.message.startsWith('frame ') ? `: ${err.message}` : ''})`,
    );
  if (err instanceof FrameError)
    return packError('UPLIFT_PACK_CORRUPT', file, `the compressed payload is damaged: ${symptom}`, {
      cause: err,
    });
  return packError(
    'UPLIFT_PACK_CORRUPT',
    file,
    `the payload cannot be read near ${q(current)}: ${symptom}`,
    {
      cause: err,
    },
  );
}

async function hasTrailing(fh: FileHandle, end: number): Promise<boolean> {
  const { bytesRead } = await fh.read(Buffer.alloc(1), 0, 1, end);
  return bytesRead > 0;
}

/**
 * Opens a new staging file: parents made here (never found: the staging root is new, so no link
 * can be on the way), the file created exclusively without following links, private until done.
 * Synchronous, as are the writes: tens of thousands of small files cost several times more as
 * promises (a thread-pool round trip each) than as the calls themselves, and the decoding runs on
 * its own thread meanwhile.
 */
function createStaged(file: string, root: string, rel: string, dirs: Set<string>): number {
  try {
    makeParentsSync(root, rel, dirs);
    return openSync(
      join(root, rel),
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (err) {
    throw packError(
      'UPLIFT_PACK_STAGING_FAILED',
      file,
      `cannot stage ${q(rel)}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

function makeParentsSync(root: string, rel: string, dirs: Set<string>): void {
  for (let i = rel.indexOf('/'); i !== -1; i = rel.indexOf('/', i + 1)) {
    const d = rel.slice(0, i);
    if (dirs.has(d)) continue;
    mkdirSync(join(root, d), { mode: 0o755 });
    dirs.add(d);
  }
}

/**
 * Stages a symbolic link (its target already checked) or an empty directory, with parents made
 * as {@link createStaged} makes them. Directories are staged 0755: apply gives them their mode.
 */
async function createSpecial(
  file: string,
  root: string,
  rel: string,
  want: Exclude<PayloadEntry, { kind: 'file' }>,
  dirs: Set<string>,
): Promise<void> {
  try {
    makeParentsSync(root, rel, dirs);
    if (want.kind === 'symlink') await symlink(want.target, join(root, rel));
    else {
      await mkdir(join(root, rel), { mode: 0o755 });
      dirs.add(rel);
    }
  } catch (err) {
    throw packError(
      'UPLIFT_PACK_STAGING_FAILED',
      file,
      `cannot stage ${q(rel)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function writeAll(file: string, fd: number, chunk: Buffer): void {
  try {
    let off = 0;
    while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
  } catch (err) {
    throw packError(
      'UPLIFT_PACK_STAGING_FAILED',
      file,
      `cannot write into staging: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}
