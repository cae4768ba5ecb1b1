import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar, { type Header as TarHeader } from 'tar-stream';
import { UpliftError, unreadableFileError } from '../errors/index.ts';
import { checksumFile } from './durable.ts';
import { checkRelativePath, parentOf } from './safe-path.ts';
import {
  archiveNames,
  type BackupInfo,
  type BackupManifest,
  type BehindLink,
  type EntryType,
  type ManifestEntry,
  type ProgressListener,
  readableFormats,
} from './types.ts';

/** A tree entry as the archive presents it, before the manifest (the last entry) has been read. */
export interface ArchiveEntry {
  /** Which data link's target the entry is behind (index into the header's `behindLinks`); absent for the installation tree. */
  behind?: number;
  /** Relative to the installation, or to the data link's target (`.` is the target itself). */
  path: string;
  type: EntryType;
  /** Declared content size (files only). */
  size: number;
  /** Symlink target, or for hardlinks the path of the file it shares. */
  target?: string;
}

/** Where a visitor puts a file's bytes as they stream past; the reader hashes them on the way. */
export interface EntrySink {
  write(chunk: Buffer): void;
  /** The entry is complete; the reader waits for it before the next entry (backpressure). */
  end(): void | Promise<void>;
  /** Reading failed in the middle of this entry: release what it holds. */
  abort(): void;
}

export interface ReadVisitor {
  /** Called with the first entry, before any content. */
  onInfo?(info: BackupInfo): void | Promise<void>;
  /** Called for each tree entry in archive order; return a sink to receive a file's bytes. */
  onEntry?(entry: ArchiveEntry): EntrySink | undefined | Promise<EntrySink | undefined>;
}

export interface ReadResult {
  info: BackupInfo;
  manifest: BackupManifest;
  /** Size and SHA-256 of the archive file itself. */
  archiveBytes: number;
  archiveSha256: string;
  /** Whether the archive's SHA-256 was compared with its `.sha256` sidecar. */
  checksum: 'matched' | 'absent';
}

interface Observed {
  type: EntryType;
  size: number;
  sha256?: string;
  target?: string;
}

/** Metadata entries are small; a bound keeps a hostile archive from making us buffer gigabytes. */
const maxHeaderBytes = 1 << 20;
const maxManifestBytes = 512 << 20;

/**
 * Reads a backup in one streaming pass: the header first, every tree entry hashed as it streams
 * to the visitor, the manifest last; then checks that archive and manifest agree entry by entry
 * (type, size, SHA-256, link target). Throws a coded error naming the entry or the damage; a
 * visitor that wrote anything must discard it when this throws.
 */
export async function readBackup(
  file: string,
  visitor: ReadVisitor = {},
  onProgress?: ProgressListener,
  phase: 'verify' | 'restore' = 'verify',
): Promise<ReadResult> {
  let total: number;
  try {
    total = (await stat(file)).size;
  } catch (err) {
    throw new UpliftError(
      'UPLIFT_FILE_NOT_FOUND',
      `cannot read the backup ${file}: ${(err as Error).message}`,
      {
        cause: err,
        hint: 'Check the path of the backup file.',
      },
    );
  }
  const archiveHash = createHash('sha256');
  let archiveBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      archiveHash.update(chunk);
      archiveBytes += chunk.length;
      cb(null, chunk);
    },
  });
  const extract = tar.extract();
  const piped = pipeline(
    createReadStream(file, { highWaterMark: 1 << 20 }),
    tap,
    createGunzip({ chunkSize: 1 << 18 }),
    extract,
  );
  piped.catch(() => {});

  const started = performance.now();
  let lastReport = 0;
  let info: BackupInfo | undefined;
  let manifest: BackupManifest | undefined;
  const observed = new Map<string, Observed>();
  // One map per data link's target (format /2), like `observed` for the tree.
  const observedBehind: Map<string, Observed>[] = [];
  let files = 0;
  let bytes = 0;
  let index = 0;
  let current = '(the start of the archive)';
  let sink: EntrySink | undefined;
  const report = (done: boolean) => {
    const now = performance.now();
    if (!onProgress || (!done && now - lastReport < 100)) return;
    lastReport = now;
    onProgress({
      phase,
      files,
      totalFiles: info?.planned.files ?? 0,
      bytes,
      totalBytes: info?.planned.bytes ?? 0,
      elapsedMs: now - started,
      done,
    });
  };

  try {
    for await (const entry of extract) {
      const h = entry.header;
      current = h.name;
      if (index++ === 0) {
        if (h.name !== archiveNames.header || h.type !== 'file')
          throw notABackup(
            file,
            `its first entry is ${JSON.stringify(h.name)}, not ${archiveNames.header}`,
          );
        info = parseInfo(
          file,
          await readSmall(entry as unknown as AsyncIterable<Buffer>, maxHeaderBytes, file, h.name),
        );
        await visitor.onInfo?.(info);
        continue;
      }
      if (manifest) throw corrupt(file, `entry ${JSON.stringify(h.name)} follows the manifest`);
      if (h.name === archiveNames.manifest && h.type === 'file') {
        manifest = parseManifest(
          file,
          await readSmall(
            entry as unknown as AsyncIterable<Buffer>,
            maxManifestBytes,
            file,
            h.name,
          ),
          info as BackupInfo,
        );
        continue;
      }
      const e = treeEntry(file, h, info?.behindLinks?.length ?? 0);
      let seen = observed;
      if (e.behind !== undefined) {
        seen = observedBehind[e.behind] ?? new Map<string, Observed>();
        observedBehind[e.behind] = seen;
      }
      checkPlacement(file, e, seen);
      sink = await visitor.onEntry?.(e);
      if (e.type === 'file') {
        const hash = createHash('sha256');
        let n = 0;
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          hash.update(chunk);
          n += chunk.length;
          sink?.write(chunk);
          bytes += chunk.length;
          report(false);
        }
        await sink?.end();
        sink = undefined;
        files++;
        seen.set(e.path, { type: 'file', size: n, sha256: hash.digest('hex') });
      } else {
        entry.resume();
        seen.set(e.path, { type: e.type, size: 0, target: e.target });
      }
    }
    await piped;
  } catch (err) {
    sink?.abort();
    await piped.catch(() => {});
    throw mapReadError(file, err, current, archiveBytes, total);
  }
  if (!info) throw notABackup(file, 'it is empty');
  if (!manifest)
    throw new UpliftError(
      'UPLIFT_BACKUP_TRUNCATED',
      `${file} ends before its manifest (after ${JSON.stringify(current)}): the backup did not finish or was cut short`,
      {
        hint: 'Use another backup; this one is incomplete.',
        unchanged: true,
      },
    );
  compareWithManifest(file, observed, manifest.entries, '');
  for (const [i, b] of (manifest.behind ?? []).entries())
    compareWithManifest(file, observedBehind[i] ?? new Map(), b.entries, `${b.path} -> `);
  const archiveSha256 = archiveHash.digest('hex');
  const expected = await readChecksum(file);
  if (expected !== undefined && expected !== archiveSha256)
    throw corrupt(
      file,
      `its SHA-256 is ${archiveSha256}, but ${checksumFile(file)} (written with the backup) says ${expected}; every entry still matches the manifest, so the change is in the compression framing or the file was rewritten`,
    );
  report(true);
  return {
    info,
    manifest,
    archiveBytes,
    archiveSha256,
    checksum: expected === undefined ? 'absent' : 'matched',
  };
}

/** The SHA-256 from the backup's sidecar, or undefined when there is none. */
async function readChecksum(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(checksumFile(file), 'utf8');
  } catch {
    return undefined;
  }
  const sha = text.trim().split(/\s+/)[0] ?? '';
  if (!/^[0-9a-f]{64}$/.test(sha))
    throw corrupt(file, `${checksumFile(file)} does not hold a SHA-256`);
  return sha;
}

/**
 * Every entry must sit in a directory that came earlier in the archive (never under a symlink or a
 * file), appear once, and a hard link must name a file that came earlier: then an extractor that
 * creates exactly these entries, in order, under a fresh directory can never be led outside it.
 */
function checkPlacement(file: string, e: ArchiveEntry, observed: Map<string, Observed>): void {
  const quoted = JSON.stringify(e.behind === undefined ? e.path : `behind/${e.behind}/${e.path}`);
  if (observed.has(e.path)) throw unsafe(file, `entry ${quoted} appears twice`);
  if (e.path === '.') {
    // A data link may point to a single file.
    if (e.type !== 'directory' && !(e.behind !== undefined && e.type === 'file'))
      throw unsafe(file, 'the root of the tree is not a directory');
    return;
  }
  const parent = observed.get(parentOf(e.path));
  if (parent?.type !== 'directory')
    throw unsafe(
      file,
      `entry ${quoted} ${parent ? `lies under a ${parent.type}` : 'comes before its directory'}`,
    );
  if (e.type === 'hardlink' && observed.get(e.target as string)?.type !== 'file')
    throw unsafe(file, `hard link ${quoted} does not name a file archived before it`);
}

async function readSmall(
  entry: AsyncIterable<Buffer>,
  cap: number,
  file: string,
  name: string,
): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of entry) {
    n += chunk.length;
    if (n > cap) throw corrupt(file, `${name} is larger than ${cap} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `behind/<n>/rest` or `behind/<n>` with n below `count`; undefined for any other name. */
function behindOf(name: string, count: number): { index: number; rest: string } | undefined {
  const m = /^behind\/(0|[1-9][0-9]{0,5})(\/.*)?$/.exec(name);
  if (!m || Number(m[1]) >= count) return undefined;
  return { index: Number(m[1]), rest: (m[2] ?? '/').slice(1) };
}

function treeEntry(file: string, h: TarHeader, behindCount: number): ArchiveEntry {
  const behind = behindOf(h.name, behindCount);
  if (!h.name.startsWith(archiveNames.treePrefix) && !behind)
    throw unsafe(file, `entry ${JSON.stringify(h.name)} is outside ${archiveNames.treePrefix}`);
  let rel = behind ? behind.rest : h.name.slice(archiveNames.treePrefix.length);
  if (h.type === 'directory' && rel.endsWith('/')) rel = rel.slice(0, -1);
  if (rel === '') rel = '.';
  checkRelativePath(rel, file);
  const e = treeEntryOf(
    file,
    h,
    rel,
    behind ? `${archiveNames.behindPrefix}${behind.index}/` : archiveNames.treePrefix,
  );
  return behind ? { ...e, behind: behind.index } : e;
}

function treeEntryOf(file: string, h: TarHeader, rel: string, prefix: string): ArchiveEntry {
  switch (h.type) {
    case 'file':
    case 'contiguous-file':
      return { path: rel, type: 'file', size: h.size ?? 0 };
    case 'directory':
      return { path: rel, type: 'directory', size: 0 };
    case 'symlink':
      if (!h.linkname || h.linkname.includes('\0'))
        throw unsafe(file, `symlink ${JSON.stringify(rel)} has no usable target`);
      return { path: rel, type: 'symlink', size: 0, target: h.linkname };
    case 'link': {
      // A hard link stays within its root: the tree, or one data link's target.
      const target = h.linkname?.startsWith(prefix) ? h.linkname.slice(prefix.length) : undefined;
      if (target === undefined)
        throw unsafe(file, `hard link ${JSON.stringify(rel)} points outside the tree`);
      checkRelativePath(target, file);
      return { path: rel, type: 'hardlink', size: 0, target };
    }
    default:
      throw unsafe(
        file,
        `entry ${JSON.stringify(rel)} is a ${h.type ?? 'unknown'} entry; backups hold only files, directories and links`,
      );
  }
}

function parseJson(file: string, text: string, name: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      return v as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw corrupt(file, `${name} is not a JSON object`);
}

function parseInfo(file: string, text: string): BackupInfo {
  const v = parseJson(file, text, archiveNames.header);
  if (!readableFormats.includes(v.format as string))
    throw notABackup(
      file,
      `its header has format ${JSON.stringify(v.format)}; this uplift reads ${readableFormats.join(' and ')}`,
    );
  if (
    typeof v.id !== 'string' ||
    typeof v.installation !== 'string' ||
    typeof v.planned !== 'object'
  )
    throw corrupt(file, `${archiveNames.header} lacks id, installation or planned totals`);
  const links = v.behindLinks;
  if (links !== undefined) {
    const ok =
      Array.isArray(links) &&
      links.every(
        (l: Partial<BehindLink> | null) =>
          l !== null &&
          typeof l === 'object' &&
          typeof l.path === 'string' &&
          typeof l.target === 'string' &&
          !l.target.includes('\0') &&
          typeof l.resolved === 'string' &&
          l.resolved.startsWith('/') &&
          typeof l.planned === 'object',
      );
    if (!ok || v.format === 'uplift-backup/1')
      throw corrupt(file, `${archiveNames.header} has a malformed behindLinks list`);
    for (const l of links as BehindLink[]) checkRelativePath(l.path, file);
  }
  return v as unknown as BackupInfo;
}

const entryTypes = new Set<EntryType>(['directory', 'file', 'symlink', 'hardlink']);

function parseManifest(file: string, text: string, info: BackupInfo): BackupManifest {
  const v = parseJson(file, text, archiveNames.manifest);
  if (v.format !== info.format || v.id !== info.id)
    throw corrupt(
      file,
      `the manifest belongs to another backup (id ${JSON.stringify(v.id)}, header id ${info.id})`,
    );
  if (!Array.isArray(v.entries)) throw corrupt(file, 'the manifest has no entries list');
  checkEntries(file, v.entries as unknown[]);
  const links = info.behindLinks ?? [];
  const behind = v.behind;
  if (behind !== undefined || links.length > 0) {
    if (
      !Array.isArray(behind) ||
      behind.length !== links.length ||
      !behind.every(
        (b: { path?: unknown; entries?: unknown } | null, i) =>
          b !== null && b.path === links[i]?.path && Array.isArray(b.entries),
      )
    )
      throw corrupt(file, "the manifest's behind list does not match the header's behindLinks");
    for (const b of behind as { entries: unknown[] }[]) checkEntries(file, b.entries);
    // A data link is a link of the tree, with the text the header names.
    for (const l of links) {
      const m = (v.entries as ManifestEntry[]).find((e) => e.path === l.path);
      if (m?.type !== 'symlink' || m.target !== l.target)
        throw corrupt(
          file,
          `behindLinks names ${JSON.stringify(l.path)}, which is not that link of the tree`,
        );
    }
  }
  return v as unknown as BackupManifest;
}

function checkEntries(file: string, list: unknown[]): void {
  for (const [i, e] of list.entries()) {
    const m = e as Partial<ManifestEntry> | null;
    const ok =
      m !== null &&
      typeof m === 'object' &&
      typeof m.path === 'string' &&
      entryTypes.has(m.type as EntryType) &&
      Number.isInteger(m.mode) &&
      Number.isInteger(m.uid) &&
      Number.isInteger(m.gid) &&
      typeof m.mtimeMs === 'number' &&
      (m.type !== 'file' || (Number.isInteger(m.size) && typeof m.sha256 === 'string')) &&
      (m.type === 'file' || m.type === 'directory' || typeof m.target === 'string');
    if (!ok)
      throw corrupt(file, `manifest entry ${i} is malformed: ${JSON.stringify(e).slice(0, 200)}`);
    checkRelativePath(m.path as string, file);
  }
}

function compareWithManifest(
  file: string,
  observed: Map<string, Observed>,
  entries: readonly ManifestEntry[],
  /** `link -> ` for what is behind a data link, so messages say which target. */
  where: string,
): void {
  const problems: { path: string; message: string }[] = [];
  const listed = new Set<string>();
  for (const m of entries) {
    listed.add(m.path);
    const o = observed.get(m.path);
    if (!o)
      problems.push({
        path: m.path,
        message: `${m.path}: listed in the manifest but missing from the archive`,
      });
    else if (o.type !== m.type)
      problems.push({
        path: m.path,
        message: `${m.path}: the manifest says ${m.type}, the archive holds a ${o.type}`,
      });
    else if (m.type === 'file' && o.size !== m.size)
      problems.push({
        path: m.path,
        message: `${m.path}: ${o.size} bytes in the archive, ${m.size} in the manifest`,
      });
    else if (m.type === 'file' && o.sha256 !== m.sha256)
      problems.push({
        path: m.path,
        message: `${m.path}: SHA-256 ${o.sha256} in the archive, ${m.sha256} in the manifest`,
      });
    else if (m.type !== 'file' && m.type !== 'directory' && o.target !== m.target)
      problems.push({
        path: m.path,
        message: `${m.path}: link target ${JSON.stringify(o.target)} in the archive, ${JSON.stringify(m.target)} in the manifest`,
      });
  }
  for (const path of observed.keys())
    if (!listed.has(path))
      problems.push({ path, message: `${path}: in the archive but not in the manifest` });
  for (const p of problems) {
    p.path = `${where}${p.path}`;
    p.message = `${where}${p.message}`;
  }
  const first = problems[0];
  if (first) {
    throw new UpliftError(
      'UPLIFT_BACKUP_ENTRY_MISMATCH',
      `${file} does not match its manifest at entry ${JSON.stringify(first.path)}: ${first.message.slice(first.path.length + 2)}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
      {
        hint: 'The backup is damaged or was altered; use another backup.',
        details: problems.map((p) => ({ message: p.message })),
        unchanged: true,
      },
    );
  }
}

function mapReadError(
  file: string,
  err: unknown,
  current: string,
  at: number,
  total: number,
): unknown {
  if (err instanceof UpliftError) return err;
  const e = err as NodeJS.ErrnoException;
  const where = `while reading ${JSON.stringify(current)}${total > 0 ? `, near byte ${at} of ${total}` : ''}`;
  if (e.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message))
    return new UpliftError(
      'UPLIFT_BACKUP_TRUNCATED',
      `${file} is cut short (${where}): ${e.message}`,
      {
        cause: err,
        hint: 'Use another backup; this one is incomplete (was it still being copied?).',
        unchanged: true,
      },
    );
  if (current === '(the start of the archive)' && /incorrect header check/.test(e.message))
    return notABackup(file, 'it is not gzip-compressed');
  if (e.code === 'EIO' || e.code === 'EACCES' || e.code === 'EISDIR')
    return new UpliftError(
      'UPLIFT_BACKUP_READ_FAILED',
      `cannot read ${file} (${where}): ${e.message}`,
      {
        cause: err,
        hint: 'Check the file and the disk it is on.',
        unchanged: true,
      },
    );
  return corrupt(file, `${e.message} (${where})`, err);
}

// Reading a backup writes nothing, and restore removes its staging tree before an error from
// here reaches the operator: these failures leave everything as it was.
function corrupt(file: string, what: string, cause?: unknown): UpliftError {
  return new UpliftError('UPLIFT_BACKUP_CORRUPT', `${file} is damaged: ${what}`, {
    cause,
    hint: 'Use another backup; this one cannot be trusted.',
    unchanged: true,
  });
}

function unsafe(file: string, what: string): UpliftError {
  return new UpliftError('UPLIFT_BACKUP_UNSAFE_ENTRY', `${file}: ${what}`, {
    hint: 'This archive was not written by uplift or was altered; use another backup.',
    unchanged: true,
  });
}

function notABackup(file: string, why: string): UpliftError {
  return new UpliftError('UPLIFT_BACKUP_NOT_A_BACKUP', `${file} is not an uplift backup: ${why}`, {
    hint: 'Pass a file written by `uplift backup`.',
  });
}

/** Reads only the header (the first entry): what a backup is, without decompressing the rest. */
export async function readBackupInfo(file: string): Promise<BackupInfo> {
  const source = createReadStream(file, { highWaterMark: 1 << 16 });
  const extract = tar.extract();
  const piped = pipeline(source, createGunzip(), extract);
  piped.catch(() => {});
  let current = '(the start of the archive)';
  try {
    for await (const entry of extract) {
      current = entry.header.name;
      if (entry.header.name !== archiveNames.header || entry.header.type !== 'file')
        throw notABackup(
          file,
          `its first entry is ${JSON.stringify(entry.header.name)}, not ${archiveNames.header}`,
        );
      return parseInfo(
        file,
        await readSmall(
          entry as unknown as AsyncIterable<Buffer>,
          maxHeaderBytes,
          file,
          entry.header.name,
        ),
      );
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `the backup ${file} does not exist`, {
        cause: err,
        hint: 'Check the path of the backup file.',
      });
    if ((err as NodeJS.ErrnoException).code === 'EISDIR')
      throw unreadableFileError(err, file, 'Give the backup file (.tar.gz), not a folder.') ?? err;
    throw mapReadError(file, err, current, 0, 0);
  } finally {
    source.destroy();
  }
  throw notABackup(file, 'it is empty');
}
