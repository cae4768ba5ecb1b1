import { createHash, randomUUID } from 'node:crypto';
import {
  closeSync,
  constants,
  createWriteStream,
  fstatSync,
  openSync,
  readSync,
  type Stats,
} from 'node:fs';
import { link, lstat, mkdir, mkdtemp, realpath, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar, { type Header as TarHeader } from 'tar-stream';
import { UpliftError, unwritablePathError } from '../errors/index.ts';
import { drained, matchesAnyGlob } from '../util/index.ts';
import {
  checksumFile,
  crashPoint,
  fsyncDir,
  fsyncFile,
  removeStaleTemps,
  writeFileDurably,
} from './durable.ts';
import { refuseIfRestoreInterrupted } from './journal.ts';
import { createParallelGzip } from './parallel-gzip.ts';
import type { ServiceControl } from './service.ts';
import { copySqliteOnline, isSqliteHeader, sqliteSidecars } from './sqlite.ts';
import { fileStamp, toolVersion } from './tool-version.ts';
import {
  archiveNames,
  type BackupInfo,
  type BackupManifest,
  type BackupTotals,
  type BehindLink,
  backupFormat,
  type Consistency,
  firstBackupFormat,
  type ManifestEntry,
  type ProgressListener,
} from './types.ts';
import {
  countEntry,
  isInside,
  noTotals,
  readFailed,
  type WalkedEntry,
  walkBehindLinks,
  walkInstallation,
} from './walk.ts';

/**
 * gzip level for backups. Measured on the bench tree (docs/backup.md): level 1 is about twice as
 * fast as 6 and the archive only a few percent larger, because the random part of real
 * installations (archives, jars, uploads) does not compress at any level.
 */
export const defaultGzipLevel = 1;

/** Bytes per read; hashing and compression are fastest on chunks of at least 1 MiB. */
const chunkSize = 1 << 20;

export interface CreateBackupOptions {
  /** The installation directory. */
  install: string;
  /** Where to write the archive; default `<install>/../<name>-backup-<timestamp>.tar.gz`. */
  out?: string;
  /** The product's services (from its profile's lifecycle); without it the backup cannot tell whether they run. */
  service?: ServiceControl;
  /** The installed version, recorded in the backup's manifest (the caller detects it). */
  productVersion?: string;
  /** Globs of what the product produces at run time (its profile's `paths.generated`): left out (a link stays in: it is the customer's). */
  generated?: readonly string[];
  /**
   * Globs of the customer's data (its profile's `paths.data`): a link matching them that leads
   * outside the installation is backed up through (what it points to, under `behind/`), so a
   * restore brings a database kept on another disk back too. Other links are recorded as links only.
   */
  data?: readonly string[];
  /** Stop a running service (the profile's stop) for an offline backup, and start it again afterwards. */
  stop?: boolean;
  /** With `stop`: leave the service stopped (for example, an upgrade follows). */
  keepStopped?: boolean;
  /** gzip level 1–9; default {@link defaultGzipLevel}. */
  level?: number;
  onProgress?: ProgressListener;
  now?: Date;
}

export interface BackupResult {
  file: string;
  /** SHA-256 of the archive file, to record and compare later. */
  sha256: string;
  archiveBytes: number;
  id: string;
  installation: string;
  productVersion: string | null;
  consistency: Consistency;
  totals: BackupTotals;
  /** The data links backed up through, each with the totals of what it pointed to. */
  behind: (Omit<BehindLink, 'planned'> & { totals: BackupTotals })[];
  seconds: number;
  service: { runningBefore: number[]; stopped: boolean; restarted: boolean };
}

/**
 * Writes a consistent backup of an installation: one tar.gz whose first entry says what it is and
 * whose last entry, the manifest, lists every entry with type, mode, owner, mtime, size and SHA-256
 * (hashed while the content streams into the archive, so the tree is read once). The archive
 * appears under its final name only when complete and on disk (temp file, fsync, link, directory
 * fsync): an interrupted backup leaves at most a `.tmp` file, never something that looks finished.
 */
export async function createBackup(opts: CreateBackupOptions): Promise<BackupResult> {
  const started = performance.now();
  const now = opts.now ?? new Date();
  // Before anything else: between the two renames of an interrupted restore the installation is
  // missing, and the operator must hear "finish the restore", not "no such directory".
  await refuseIfRestoreInterrupted(await resolveParent(opts.install));
  const install = await resolveInstall(opts.install);
  await refuseIfRestoreInterrupted(install);
  const out = opts.out
    ? resolve(opts.out)
    : join(dirname(install), `${basename(install)}-backup-${fileStamp(now)}.tar.gz`);
  await checkOut(out, install);
  const level = opts.level ?? defaultGzipLevel;
  if (!Number.isInteger(level) || level < 1 || level > 9)
    throw new UpliftError('UPLIFT_USAGE', `gzip level must be 1–9, got ${level}`);

  const service = opts.service;
  if (opts.stop && !service)
    throw new UpliftError(
      'UPLIFT_USAGE',
      `cannot stop the service of ${install}: its profile declares no lifecycle`,
      {
        hint: 'Add lifecycle.services to the profile (docs/profiles.md), or stop the service yourself and back up without --stop.',
      },
    );
  const running = (await service?.running()) ?? [];
  let stopped = false;
  if (running.length > 0 && opts.stop && service) {
    await service.stop({ code: 'UPLIFT_BACKUP_STOP_FAILED' });
    stopped = true;
  }
  let written: Omit<BackupResult, 'seconds' | 'service'>;
  try {
    written = await writeBackup({
      install,
      out,
      level,
      online: running.length > 0 && !stopped,
      runningPids: running.map((p) => p.pid),
      stopped,
      now,
      onProgress: opts.onProgress,
      isRuntimeFile: (path) => service?.isRuntimeFile(path) ?? false,
      generated: opts.generated ?? [],
      data: opts.data ?? [],
      productVersion: opts.productVersion ?? null,
    });
  } catch (err) {
    const restarted =
      stopped && !opts.keepStopped && service
        ? await service.start({ code: 'UPLIFT_BACKUP_START_FAILED' }).then(
            () => true,
            () => false,
          )
        : !stopped;
    if (!restarted && err instanceof UpliftError)
      throw new UpliftError(err.code, err.message, {
        cause: err.cause,
        hint: err.hint,
        exitCode: err.exitCode,
        location: err.location,
        details: err.details,
        unchanged: false,
        state: `no backup was written, and the service of ${install} is stopped`,
      });
    throw err;
  }
  let restarted = false;
  if (stopped && !opts.keepStopped && service) {
    try {
      await service.start({ code: 'UPLIFT_BACKUP_START_FAILED', changed: true });
      restarted = true;
    } catch (err) {
      const e = err as UpliftError;
      throw new UpliftError(
        'UPLIFT_BACKUP_START_FAILED',
        `the backup was written to ${written.file}, but the service did not start again: ${e.message}`,
        {
          cause: err,
          hint: e.hint,
          unchanged: false,
          state: `the backup ${written.file} is complete, and the service of ${install} is stopped`,
        },
      );
    }
  }
  return {
    ...written,
    seconds: Math.round((performance.now() - started) / 10) / 100,
    service: { runningBefore: running.map((p) => p.pid), stopped, restarted },
  };
}

/** The installation path with its parent's symlinks resolved, whether or not it exists. */
async function resolveParent(install: string): Promise<string> {
  const abs = resolve(install);
  try {
    return join(await realpath(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

async function resolveInstall(install: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(resolve(install));
  } catch (err) {
    throw new UpliftError(
      'UPLIFT_BACKUP_INSTALL_NOT_FOUND',
      `the installation ${install} does not exist`,
      {
        cause: err,
        hint: 'Pass the installation directory with --install.',
      },
    );
  }
  if (!(await lstat(real)).isDirectory())
    throw new UpliftError('UPLIFT_BACKUP_INSTALL_NOT_FOUND', `${install} is not a directory`, {
      hint: 'Pass the installation directory with --install.',
    });
  return real;
}

/** The output must not exist and must not be inside the installation (it would back itself up, and restore would delete it). */
async function checkOut(out: string, install: string): Promise<void> {
  let existing = dirname(out);
  const rest: string[] = [basename(out)];
  for (;;) {
    try {
      existing = await realpath(existing);
      break;
    } catch {
      rest.unshift(basename(existing));
      const up = dirname(existing);
      if (up === existing) break;
      existing = up;
    }
  }
  const real = join(existing, ...rest);
  const rel = relative(install, real);
  if (rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith('/')))
    throw new UpliftError(
      'UPLIFT_BACKUP_OUT_INSIDE_INSTALL',
      `the backup file ${out} would be inside the installation ${install}`,
      {
        hint: 'Write the backup outside the installation, e.g. --out /var/backups/<name>.tar.gz.',
      },
    );
  try {
    await lstat(out);
  } catch {
    return;
  }
  throw new UpliftError('UPLIFT_BACKUP_OUT_EXISTS', `${out} already exists`, {
    hint: 'Choose another --out file, or move the existing one away.',
  });
}

interface WriteOptions {
  install: string;
  out: string;
  level: number;
  online: boolean;
  runningPids: number[];
  stopped: boolean;
  now: Date;
  onProgress?: ProgressListener;
  isRuntimeFile: (path: string) => boolean;
  generated: readonly string[];
  data: readonly string[];
  productVersion: string | null;
}

async function writeBackup(o: WriteOptions): Promise<Omit<BackupResult, 'seconds' | 'service'>> {
  const started = performance.now();
  // Online, pid files describe processes, not state: restored, they would make a stopped
  // installation look like it runs. A link is the customer's, even where the product writes
  // through it: it stays, whatever paths.generated says.
  const walk = await walkInstallation(o.install, (path, type) =>
    o.online && type === 'file' && o.isRuntimeFile(path)
      ? 'pid file of the running service'
      : type === 'file' && o.generated.length > 0 && matchesAnyGlob(o.generated, path)
        ? "produced at run time (the profile's paths.generated)"
        : undefined,
  );
  const { behind, skipped } = await walkBehindLinks(o.install, walk.entries, o.data);
  walk.excluded.push(...skipped);
  const outDir = await realpath(dirname(o.out)).catch(() => dirname(o.out));
  for (const b of behind)
    if (isInside(join(outDir, basename(o.out)), b.link.resolved))
      throw new UpliftError(
        'UPLIFT_BACKUP_OUT_INSIDE_INSTALL',
        `the backup file ${o.out} would be inside ${b.link.resolved}, which the data link ${b.link.path} points to and the backup holds`,
        { hint: 'Write the backup elsewhere with --out.' },
      );
  const roots = [
    {
      prefix: archiveNames.treePrefix,
      through: '',
      walk,
      totals: noTotals(),
      entries: [] as ManifestEntry[],
    },
    ...behind.map((b, i) => ({
      prefix: `${archiveNames.behindPrefix}${i}/`,
      through: `${b.link.path}/`,
      walk: b.walk,
      totals: noTotals(),
      entries: [] as ManifestEntry[],
    })),
  ];
  const plannedFiles = roots.reduce((n, r) => n + r.walk.planned.files, 0);
  const plannedBytes = roots.reduce((n, r) => n + r.walk.planned.bytes, 0);
  const productVersion = o.productVersion;
  const consistency: Consistency = {
    mode: o.online ? 'online' : 'offline',
    how: o.online
      ? `the service was running (pid ${o.runningPids.join(', ')}): SQLite databases were copied with SQLite's online backup API, other files were read as they were`
      : o.stopped
        ? "uplift stopped the service (the profile's lifecycle) for the backup"
        : 'nothing was running',
    runningPids: o.runningPids,
    stoppedByUplift: o.stopped,
    sqliteOnlineCopies: [],
    excluded: walk.excluded,
  };
  const info: BackupInfo = {
    format: behind.length > 0 ? backupFormat : firstBackupFormat,
    id: randomUUID(),
    installation: o.install,
    productVersion,
    created: o.now.toISOString(),
    tool: { name: 'uplift', version: toolVersion() },
    consistency,
    planned: walk.planned,
    ...(behind.length > 0 ? { behindLinks: behind.map((b) => b.link) } : {}),
  };

  await mkdir(dirname(o.out), { recursive: true }).catch((err: unknown) => {
    throw unwritablePathError(err, o.out, '--out') ?? err;
  });
  await removeStaleTemps(o.out);
  const tmp = join(dirname(o.out), `.${basename(o.out)}.tmp-${process.pid}`);
  let scratch: string | undefined;
  const archiveHash = createHash('sha256');
  let archiveBytes = 0;
  let archiveSha256 = '';
  let linked = false;
  const pack = tar.pack({ highWaterMark: 4 << 20 });
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      archiveHash.update(chunk);
      archiveBytes += chunk.length;
      cb(null, chunk);
    },
  });
  const piped = pipeline(
    pack,
    createParallelGzip({ level: o.level }),
    tap,
    createWriteStream(tmp, { flags: 'wx', mode: 0o600 }),
  );
  piped.catch(() => {});

  const stored = new Set<string>();
  const skip = new Map<string, string>();
  let lastReport = 0;
  // Bytes of the file being streamed, so progress moves inside a large file too.
  let streamed = 0;
  const report = (done: boolean) => {
    const now = performance.now();
    if (!o.onProgress || (!done && now - lastReport < 100)) return;
    lastReport = now;
    o.onProgress({
      phase: 'backup',
      files: roots.reduce((n, r) => n + r.totals.files, 0),
      totalFiles: plannedFiles,
      bytes: roots.reduce((n, r) => n + r.totals.bytes, 0) + streamed,
      totalBytes: plannedBytes,
      elapsedMs: now - started,
      done,
    });
  };

  const add = (header: Partial<TarHeader> & { name: string }, body?: Buffer) =>
    new Promise<void>((res, rej) => {
      const cb = (err?: Error | null) => (err ? rej(err) : res());
      if (body) pack.entry(header, body, cb);
      else pack.entry(header, cb);
    });

  try {
    await add(
      { name: archiveNames.header, type: 'file', mode: 0o644, mtime: o.now },
      Buffer.from(`${JSON.stringify(info, null, 2)}\n`),
    );
    for (const root of roots)
      for (const w of root.walk.entries) {
        const name = w.path === '.' ? root.prefix : `${root.prefix}${w.path}`;
        // The root of a data link's target that is a file is `behind/<n>`, not a folder.
        const fileName = w.path === '.' && root.through ? root.prefix.slice(0, -1) : name;
        const why = skip.get(name);
        if (why) {
          consistency.excluded.push({ path: `${root.through}${w.path}`, reason: why });
          continue;
        }
        const meta = metaOf(w.stats);
        const tarMeta = {
          mode: meta.mode,
          uid: meta.uid,
          gid: meta.gid,
          mtime: new Date(meta.mtimeMs),
        };
        let entry: ManifestEntry;
        if (w.type === 'directory') {
          await add({
            ...tarMeta,
            name: w.path === '.' && !root.through ? name : `${name.replace(/\/$/, '')}/`,
            type: 'directory',
          });
          entry = { path: w.path, type: 'directory', ...meta };
        } else if (w.type === 'symlink') {
          await add({ ...tarMeta, name, type: 'symlink', linkname: w.target as string });
          entry = { path: w.path, type: 'symlink', ...meta, target: w.target };
        } else if (w.type === 'hardlink' && stored.has(`${root.prefix}${w.target}`)) {
          await add({
            ...tarMeta,
            name,
            type: 'link',
            linkname: `${root.prefix}${w.target}`,
          });
          entry = { path: w.path, type: 'hardlink', ...meta, target: w.target };
        } else {
          const file = await addFile(w, fileName, root.through);
          if (!file) continue;
          streamed = 0;
          entry = file;
          stored.add(name);
        }
        root.entries.push(entry);
        countEntry(root.totals, entry.type, entry.size ?? 0);
        report(false);
      }
    const [tree, ...through] = roots as [(typeof roots)[0], ...typeof roots];
    const totals = tree.totals;
    const manifest: BackupManifest = {
      ...info,
      totals,
      entries: tree.entries,
      ...(behind.length > 0
        ? {
            behind: through.map((r, i) => ({
              path: behind[i]?.link.path as string,
              totals: r.totals,
              entries: r.entries,
            })),
          }
        : {}),
    };
    await add(
      { name: archiveNames.manifest, type: 'file', mode: 0o644, mtime: o.now },
      Buffer.from(`${JSON.stringify(manifest)}\n`),
    );
    pack.finalize();
    await piped;
    await fsyncFile(tmp);
    crashPoint('backup-before-rename');
    // link, not rename: it fails if the name was taken meanwhile instead of replacing that file.
    await link(tmp, o.out).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST')
        throw new UpliftError(
          'UPLIFT_BACKUP_OUT_EXISTS',
          `${o.out} appeared while the backup was written`,
          {
            hint: 'Choose another --out file.',
          },
        );
      throw err;
    });
    linked = true;
    await unlink(tmp);
    fsyncDir(dirname(o.out));
    archiveSha256 = archiveHash.digest('hex');
    // gzip does not cover its own header bytes, and deflate has bits whose change alters nothing,
    // so the manifest alone cannot tell that the file was touched; this sidecar can (and it works
    // with `sha256sum -c`).
    await writeFileDurably(checksumFile(o.out), `${archiveSha256}  ${basename(o.out)}\n`);
  } catch (err) {
    pack.destroy();
    await piped.catch(() => {});
    await rm(tmp, { force: true });
    // A backup without its sidecar would be reported as a success by nobody: remove it whole.
    if (linked) await rm(o.out, { force: true });
    throw writeFailed(o.out, err);
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
  report(true);
  return {
    file: o.out,
    sha256: archiveSha256,
    archiveBytes,
    id: info.id,
    installation: o.install,
    productVersion,
    consistency,
    totals: roots[0]?.totals ?? noTotals(),
    behind: behind.map((b, i) => ({
      path: b.link.path,
      target: b.link.target,
      resolved: b.link.resolved,
      totals: roots[i + 1]?.totals ?? noTotals(),
    })),
  };

  /** Streams one file into the archive and returns its manifest entry; undefined when it vanished during an online backup. */
  async function addFile(
    w: WalkedEntry,
    name: string,
    through: string,
  ): Promise<ManifestEntry | undefined> {
    let fd: number;
    try {
      // O_NOFOLLOW: if the path became a symlink since the walk, fail instead of reading its target.
      // O_NONBLOCK: if it became a FIFO, fail instead of waiting for a writer.
      fd = openSync(w.abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && o.online) {
        consistency.excluded.push({
          path: `${through}${w.path}`,
          reason: 'removed by the running service during the backup',
        });
        return undefined;
      }
      throw changedOrUnreadable(w.path, err);
    }
    let closed = false;
    const close = () => {
      if (!closed) closeSync(fd);
      closed = true;
    };
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw fileChanged(w.path, 'it is no longer a regular file');
      const meta = metaOf(st);
      const first = readChunk(fd, Math.min(st.size, chunkSize), w.path);
      if (o.online && isSqliteHeader(first)) {
        close();
        scratch ??= await mkdtemp(join(dirname(o.out), '.uplift-backup-sqlite-'));
        const copy = join(scratch, String(consistency.sqliteOnlineCopies.length));
        await copySqliteOnline(w.abs, copy, w.path);
        consistency.sqliteOnlineCopies.push(`${through}${w.path}`);
        // The copy is self-contained; the live journal or WAL beside it belongs to the live file and
        // would be replayed onto the copy after a restore.
        for (const s of sqliteSidecars)
          skip.set(
            `${name}${s}`,
            `SQLite ${s.slice(1)} file of ${through}${w.path}, which was copied with the online backup API`,
          );
        fd = openSync(copy, constants.O_RDONLY);
        closed = false;
        const copySize = fstatSync(fd).size;
        return await streamFile(
          fd,
          name,
          w.path,
          copySize,
          readChunk(fd, Math.min(copySize, chunkSize), w.path),
          meta,
        );
      }
      return await streamFile(fd, name, w.path, st.size, first, meta);
    } finally {
      close();
    }
  }

  async function streamFile(
    fd: number,
    name: string,
    path: string,
    size: number,
    first: Buffer,
    meta: Omit<ManifestEntry, 'path' | 'type'>,
  ): Promise<ManifestEntry> {
    const hash = createHash('sha256').update(first);
    const tarMeta = {
      mode: meta.mode,
      uid: meta.uid,
      gid: meta.gid,
      mtime: new Date(meta.mtimeMs),
    };
    if (first.length < size && first.length < chunkSize) {
      // It shrank between fstat and read: online, store what is there now; offline, something writes.
      if (!o.online)
        throw fileChanged(path, `it shrank from ${size} to ${first.length} bytes while being read`);
      size = first.length;
    }
    if (size <= chunkSize) {
      await add({ ...tarMeta, name, type: 'file', size }, first);
    } else {
      await new Promise<void>((res, rej) => {
        const sink = pack.entry({ ...tarMeta, name, type: 'file', size }, (err) =>
          err ? rej(err) : res(),
        );
        const pump = async () => {
          let left = size - first.length;
          let chunk = first;
          for (;;) {
            if (!sink.write(chunk)) await drained(sink as unknown as NodeJS.EventEmitter);
            if (left === 0) break;
            chunk = readChunk(fd, Math.min(left, chunkSize), path);
            if (chunk.length === 0)
              throw fileChanged(path, `it shrank below ${size} bytes while being read`);
            hash.update(chunk);
            left -= chunk.length;
            streamed += chunk.length;
            report(false);
          }
          sink.end(undefined);
        };
        pump().catch((err: unknown) => {
          sink.destroy(err as Error);
          rej(err);
        });
      });
    }
    return { path, type: 'file', ...meta, size, sha256: hash.digest('hex') };
  }
}

function readChunk(fd: number, want: number, path: string): Buffer {
  const buf = Buffer.allocUnsafe(want);
  let got = 0;
  try {
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, null);
      if (n === 0) break;
      got += n;
    }
  } catch (err) {
    throw readFailed(path, err);
  }
  return got === want ? buf : buf.subarray(0, got);
}

function metaOf(st: Stats): Omit<ManifestEntry, 'path' | 'type'> {
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs };
}

function fileChanged(path: string, what: string): UpliftError {
  return new UpliftError(
    'UPLIFT_BACKUP_FILE_CHANGED',
    `${path} changed during the backup: ${what}`,
    {
      hint: 'Something is writing to the installation; stop it, or run the backup with --stop.',
      unchanged: true,
    },
  );
}

function changedOrUnreadable(path: string, err: unknown): UpliftError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENXIO')
    return fileChanged(
      path,
      code === 'ENOENT' ? 'it was removed' : 'it was replaced by a link or a special file',
    );
  return readFailed(path, err);
}

function writeFailed(out: string, err: unknown): unknown {
  if (err instanceof UpliftError) return err;
  const e = err as NodeJS.ErrnoException;
  return new UpliftError(
    'UPLIFT_BACKUP_WRITE_FAILED',
    `could not write the backup ${out}: ${e.message}`,
    {
      cause: err,
      hint:
        e.code === 'ENOSPC' || e.code === 'EDQUOT'
          ? 'Free space where the backup goes, or write it elsewhere with --out.'
          : e.code === 'EFBIG'
            ? 'The backup is larger than the file size limit of this process (ulimit -f); raise it, then run the backup again.'
            : 'Check that the backup directory is writable, then run the backup again.',
      // The partial archive is removed before this reaches the operator.
      unchanged: true,
    },
  );
}
